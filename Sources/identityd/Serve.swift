import ArgumentParser
import Foundation
import IdentityCore
import IdentityHTTP
import Logging
import ServiceLifecycle

/// `identityd serve`: the server, until SIGTERM or SIGINT, then a graceful shutdown that finishes requests
/// in flight, writes pending audit events and closes the store.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default command).")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.resolve()
        let logger = Bootstrap.logger(configuration)
        let adminToken = try Bootstrap.adminToken(configuration, logger: logger)
        let store = try await Bootstrap.openStore(configuration, logger: logger)
        let runtime = try Bootstrap.runtime(configuration, store: store, logger: logger)
        try await runtime.revocations.warm(now: runtime.clock.now())
        let administration = Administration(runtime: runtime, operatorKey: adminToken)
        let router = IdentityApplication.router(runtime: runtime, administration: administration,
                                                readiness: StoreReadiness(store: store), trustForwardedFor: configuration.trustForwardedFor)
        let app = IdentityApplication.make(
            router: router,
            settings: .init(host: configuration.host, port: configuration.port, trustForwardedFor: configuration.trustForwardedFor),
            logger: logger)
        let auditFlusher = PeriodicTask(name: "audit-flush", interval: .milliseconds(200)) { await runtime.audit.flush() }
        let purger = PeriodicTask(name: "purge", interval: .seconds(600)) {
            do {
                let removed = try await store.purgeExpired(now: runtime.clock.now(), batch: 1000)
                if removed > 0 { logger.info("purged expired rows", metadata: ["rows": "\(removed)"]) }
            } catch {
                logger.warning("purge failed", metadata: ["error": "\(error)"])
            }
        }
        logger.info("identityd starting", metadata: [
            "address": "\(configuration.host):\(configuration.port)", "public_url": .string(configuration.publicURL),
            "store": .string(configuration.sqlitePath.map { "sqlite:\($0)" } ?? "postgres"), "cache": "in-process",
        ])
        // Shut down in reverse order: the server first, then the flusher writes what requests left behind.
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: purger), .init(service: auditFlusher), .init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await runtime.audit.flush()
        try await store.close()
        logger.info("identityd stopped")
    }
}

/// `/readyz` for a store and the in-process cache.
struct StoreReadiness: ReadinessProbe {
    let store: any IdentityStore
    func readiness() async throws -> Readiness {
        try await store.ping()
        return .ready
    }
}

/// Runs `work` every `interval` until graceful shutdown, and once more on the way out.
struct PeriodicTask: Service {
    let name: String
    let interval: Duration
    let work: @Sendable () async -> Void

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await work()
            }
        }
        await work()
    }
}
