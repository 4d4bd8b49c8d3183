import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore
import Logging

/// Builds the HTTP application: health, the per-tenant OAuth endpoints and the admin API on one router.
public enum IdentityApplication {
    /// What the HTTP layer needs from the executable.
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        /// Take the client address from `X-Forwarded-For` (behind a trusted load balancer only).
        public var trustForwardedFor: Bool
        public init(host: String, port: Int, trustForwardedFor: Bool = false) {
            self.host = host
            self.port = port
            self.trustForwardedFor = trustForwardedFor
        }
    }

    /// The router with every route.
    public static func router(runtime: IdentityRuntime, administration: Administration, readiness: any ReadinessProbe,
                              settings: Settings) -> Router<IdentityRequestContext> {
        let router = Router(context: IdentityRequestContext.self)
        router.add(middleware: RequestOriginMiddleware(trustForwardedFor: settings.trustForwardedFor))
        router.get("healthz") { _, _ in Responses.body(Array(#"{"status":"ok"}"#.utf8)) }
        router.get("readyz") { _, context in
            do {
                let state = try await readiness.readiness()
                return Responses.body(Array("{\"status\":\"\(state.rawValue)\"}".utf8))
            } catch {
                context.logger.warning("not ready", metadata: ["error": "\(error)"])
                return Responses.body(Array(#"{"status":"unavailable"}"#.utf8), status: .serviceUnavailable, extraHeaders: [.retryAfter: "1"])
            }
        }
        TokenRoutes(runtime: runtime).register(on: router)
        AdminRoutes(admin: administration, openAPI: openAPIDocument).register(on: router)
        return router
    }

    /// An application serving `router` on the configured address.
    public static func make(router: Router<IdentityRequestContext>, settings: Settings, logger: Logger) -> some ApplicationProtocol {
        Application(router: router, configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "identityd"),
                    logger: logger)
    }

    /// `docs/openapi.yaml`, compiled into the binary (`Resources/openapi.yaml` links to it).
    static let openAPIDocument: [UInt8] = PackageResources.openapi_yaml
}
