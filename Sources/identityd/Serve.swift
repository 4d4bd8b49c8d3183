import ArgumentParser
import Foundation
import IdentityCore
import IdentityHTTP
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import RedisCache
import ServiceLifecycle
import Synchronization

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
        // Before anything makes a metric: swift-metrics binds each to the factory of its time.
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Store calls take well under a millisecond; password logins tens of milliseconds.
        factory.defaultDurationHistogramBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
            .map { Duration.nanoseconds(Int64($0 * 1e9)) }
        MetricsSystem.bootstrap(factory)
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
        let readiness = StoreReadiness(store: store, cache: cache)
        let router = IdentityApplication.router(runtime: runtime, administration: administration, readiness: readiness, settings: settings)
        let app = IdentityApplication.make(router: router, settings: settings, logger: logger)
        if configuration.metricsPort != 0 {
            let management = IdentityApplication.managementRouter(readiness: readiness) {
                var text = [UInt8]()
                registry.emit(into: &text)
                return text
            }
            services.append(.init(service: IdentityApplication.make(
                router: management, settings: .init(host: configuration.metricsHost, port: configuration.metricsPort), logger: logger)))
            services.append(.init(service: PeriodicTask(name: "metrics-sample", interval: .seconds(5)) {
                await Self.sample(runtime: runtime, cache: cache)
            }))
        }
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
            "metrics": .string(configuration.metricsPort == 0 ? "off" : "http://\(configuration.metricsHost):\(configuration.metricsPort)/metrics"),
        ])
        let webhooks = WebhookDispatcher(store: store, directory: runtime.directory, box: runtime.box,
                                         transport: try WebhookHTTPTransport(ownPorts: [configuration.port, configuration.metricsPort],
                                                                                publicURL: configuration.publicURL),
                                         clock: runtime.clock, log: runtime.log, metrics: runtime.metrics)
        services.append(.init(service: PeriodicTask(name: "webhooks", interval: .seconds(1)) { await webhooks.deliverDue() }))
        // Shut down in reverse order: the server first, then the flusher writes what requests left behind.
        services += [.init(service: AlertService(monitor: runtime.alerts)), .init(service: purger), .init(service: auditFlusher), .init(service: app)]
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

extension Serve {
    /// The gauges: the audit queue, Redis, and the age of the oldest active signing key (read from the store at
    /// most once a minute: it changes by rotation only).
    static func sample(runtime: IdentityRuntime, cache: RedisCache?) async {
        let now = runtime.clock.now()
        var keyAge: TimeInterval?
        if keyAgeSampled.withLock({ now.timeIntervalSince($0) >= 60 }) {
            var oldest: Date?
            for tenant in (try? await runtime.store.tenants()) ?? [] {
                for key in (try? await runtime.store.signingKeys(tenantID: tenant.id)) ?? [] where key.retiredAt == nil {
                    let since = key.activatedAt ?? key.createdAt
                    oldest = min(oldest ?? since, since)
                }
            }
            keyAge = oldest.map { now.timeIntervalSince($0) }
            // Until there is a key (a fresh node has no tenant), ask again at the next sample.
            if keyAge != nil { keyAgeSampled.withLock { $0 = now } }
        }
        runtime.metrics.sample(auditQueueDepth: runtime.audit.queued, redisUp: cache?.isHealthy, oldestSigningKeyAge: keyAge)
    }

    private static let keyAgeSampled = Mutex(Date.distantPast)
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

/// Evaluates the anomaly rules off the request path (`AlertMonitor.run`) until graceful shutdown.
struct AlertService: Service {
    let monitor: AlertMonitor

    func run() async throws {
        await withGracefulShutdownHandler { await monitor.run() } onGracefulShutdown: { monitor.finish() }
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
