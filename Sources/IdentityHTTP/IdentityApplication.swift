import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore
import Logging

/// Reports whether the dependencies can serve: `/readyz`.
public protocol ReadinessProbe: Sendable {
    /// `ready` when the store answers; `degraded` when the store answers but the cache does not; throws
    /// when the store does not answer.
    func readiness() async throws -> Readiness
}

public enum Readiness: String, Sendable { case ready, degraded }

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
                              trustForwardedFor: Bool) -> Router<IdentityRequestContext> {
        let router = Router(context: IdentityRequestContext.self)
        router.get("healthz") { _, _ in Rendering.body(Array(#"{"status":"ok"}"#.utf8)) }
        router.get("readyz") { _, context in
            do {
                let state = try await readiness.readiness()
                return Rendering.body(Array("{\"status\":\"\(state.rawValue)\"}".utf8))
            } catch {
                context.logger.warning("not ready", metadata: ["error": "\(error)"])
                return Rendering.body(Array(#"{"status":"unavailable"}"#.utf8), status: .serviceUnavailable, extraHeaders: [.retryAfter: "1"])
            }
        }
        TokenRoutes(runtime: runtime, trustForwardedFor: trustForwardedFor).register(on: router)
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
