import ArgumentParser
import Foundation
import IdentityCore
import IdentityHTTP
import Logging
import NIOCore
import NIOPosix
import RedisCache
import ServiceLifecycle

/// `identityd serve`: the server, until SIGTERM or SIGINT, then a graceful shutdown that finishes requests
/// in flight, writes pending audit events and closes the store.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default command).")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.resolve()
        let logger = Bootstrap.logger(configuration)
        // Async code runs on the event loops themselves: no hop between them and Swift's global pool per request
        // (decision 26). Nothing blocking runs in tasks: scrypt has its own queues, SQLite writes their own
        // thread, the Redis bus's blocking subscriber its own thread (other Redis calls are NIO channels,
        // decision 31), PostgreSQL's connections their own event loops; SQLite point reads take microseconds.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let adminToken = try Bootstrap.adminToken(configuration, logger: logger)
        let store = try await Bootstrap.openStore(configuration, logger: logger)
        let cache = try Bootstrap.openCache(configuration, logger: logger)
        let (runtime, postgresBus) = try await Bootstrap.runtime(configuration, store: store, cache: cache, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let cache {
            // Redis fills its revocation list from the store itself (and again after every outage).
            cache.bus.start { invalidation in runtime.apply(invalidation ?? .tenant(nil)) }
            services.append(.init(service: RedisCacheService(cache: cache, runtime: runtime)))
        } else {
            try await runtime.revocations.warm(now: runtime.clock.now())
            // Several PostgreSQL nodes without Redis hear of each other's changes over LISTEN/NOTIFY.
            postgresBus?.start { invalidation in runtime.apply(invalidation ?? .tenant(nil)) }
        }
        let administration = Administration(runtime: runtime, operatorKey: adminToken)
        let settings = IdentityApplication.Settings(host: configuration.host, port: configuration.port,
                                                    trustedProxies: configuration.trustedProxies,
                                                    idleTimeout: .seconds(configuration.httpIdleTimeout))
        let router = IdentityApplication.router(runtime: runtime, administration: administration,
                                                readiness: StoreReadiness(store: store, cache: cache), settings: settings)
        let app = IdentityApplication.make(router: router, settings: settings, logger: logger)
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
            "store": .string(configuration.sqlitePath.map { "sqlite:\($0)" } ?? "postgres"),
            "cache": .string(cache.map { "redis:\($0.client.settings.host):\($0.client.settings.port)" }
                ?? (postgresBus != nil ? "postgres (revocations checked in the store, LISTEN/NOTIFY)" : "in-process")),
            "password_hash": .string(runtime.hasher.current.identifier + " " + runtime.hasher.current.parameters),
        ])
        // Shut down in reverse order: the server first, then the flusher writes what requests left behind.
        services += [.init(service: purger), .init(service: auditFlusher), .init(service: app)]
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        // The store may be backing off after an error just now: retry for a while rather than lose the events.
        await runtime.audit.drain(timeout: .seconds(10))
        postgresBus?.stop()
        await cache?.close()
        try await store.close()
        logger.info("identityd stopped")
    }
}

/// `/readyz`: ready when the store answers, degraded when it does but Redis does not (or its revocation
/// list is being refilled), unavailable (503) when the store does not answer.
struct StoreReadiness: ReadinessProbe {
    let store: any IdentityStore
    let cache: RedisCache?
    func readiness() async throws -> Readiness {
        try await store.ping()
        return cache.map { $0.isHealthy ? .ready : .degraded } ?? .ready
    }
}

/// Keeps the Redis revocation list complete while the server runs (see `RedisCache.run`).
struct RedisCacheService: Service {
    let cache: RedisCache
    let runtime: IdentityRuntime

    func run() async throws {
        let runtime = self.runtime
        await cancelWhenGracefulShutdown {
            await cache.run(live: { try await runtime.store.revocations(liveAt: runtime.clock.now()) })
        }
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
