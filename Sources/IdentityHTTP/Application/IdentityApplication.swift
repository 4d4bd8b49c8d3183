import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore
import Logging
import NIOCore

/// Builds the HTTP application: health, the per-tenant OAuth endpoints and the admin API on one router.
public enum IdentityApplication {
    /// What the HTTP layer needs from the executable.
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        /// The proxies whose `X-Forwarded-For` is believed (empty: the header is ignored).
        public var trustedProxies: [IPRange]
        /// How long a connection may stay without a whole request coming in (idle keep-alive, a head or
        /// body read slowly) before it is closed.
        public var idleTimeout: Duration
        public init(host: String, port: Int, trustedProxies: [IPRange] = [], idleTimeout: Duration = .seconds(30)) {
            self.host = host
            self.port = port
            self.trustedProxies = trustedProxies
            self.idleTimeout = idleTimeout
        }
    }

    /// The router with every route.
    public static func router(runtime: IdentityRuntime, administration: Administration, readiness: any ReadinessProbe,
                              settings: Settings) -> Router<IdentityRequestContext> {
        let router = Router(context: IdentityRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware())
        router.add(middleware: RequestOriginMiddleware(trustedProxies: settings.trustedProxies))
        registerHealth(on: router, readiness: readiness)
        TokenRoutes(runtime: runtime).register(on: router)
        BrowserRoutes(runtime: runtime, pages: .standard).register(on: router)
        AdminRoutes(admin: administration, openAPI: openAPIDocument).register(on: router)
        return router
    }

    /// The management listener's router (`IDENTITY_METRICS_PORT`): `/metrics` in Prometheus's text format
    /// (`exposition` renders it), `/healthz` and `/readyz`. Never mounted on the public port.
    public static func managementRouter(readiness: any ReadinessProbe, exposition: @escaping @Sendable () -> [UInt8]) -> Router<IdentityRequestContext> {
        let router = Router(context: IdentityRequestContext.self)
        registerHealth(on: router, readiness: readiness)
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(bytes: exposition())))
        }
        return router
    }

    /// `/healthz` (the process answers) and `/readyz` (the store answers; degraded without Redis).
    static func registerHealth(on router: Router<IdentityRequestContext>, readiness: any ReadinessProbe) {
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
    }

    /// An application serving `router` on the configured address. A connection idle for `idleTimeout` —
    /// between requests, or sending a request's head or body too slowly (no HTTP part arrives until the head
    /// is whole) — is closed, so slow clients cannot hold connections forever.
    public static func make(router: Router<IdentityRequestContext>, settings: Settings, logger: Logger) -> some ApplicationProtocol {
        let idle = TimeAmount.nanoseconds(Int64(settings.idleTimeout.components.seconds) * 1_000_000_000
            + settings.idleTimeout.components.attoseconds / 1_000_000_000)
        return Application(router: router, server: .http1(configuration: .init(idleTimeout: idle)),
                           configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "identityd"),
                           logger: logger)
    }

    /// `docs/openapi.yaml`, compiled into the binary (`Resources/openapi.yaml` links to it).
    static let openAPIDocument: [UInt8] = PackageResources.openapi_yaml
}
