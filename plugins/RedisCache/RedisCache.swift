import Foundation
import IdentityCore
import Logging
import Synchronization

/// identityd's shared state on Redis (DESIGN.md "Multi-node"): the revocation list, rate-limit counters, the
/// DPoP replay cache and the invalidation bus. PostgreSQL stays the source of truth; Redis holds nothing that cannot be rebuilt.
///
/// The revocation list answers only while it is known to be complete, and until then `isRevoked` throws,
/// which sends the check to the store. It is not complete at start, after a write to it failed, and whenever
/// Redis shows that it lost its data: a refill sets the key `identityd:revocations:complete` (no expiry),
/// and every check (in the same round trip, after the entries) and every heartbeat looks for it; `run` then
/// refills the list from the store. So a Redis restart or flush that lost every entry never lets a revoked
/// token through, while a call that merely timed out (an overloaded node) costs no refill.
public final class RedisCache: Sendable {
    public let client: RedisClient
    public let revocations: RedisRevocationCache
    public let counters: RedisRateLimitCounters
    public let dpopReplays: RedisDPoPReplayCache
    public let bus: RedisInvalidationBus
    let logger: Logger

    /// The key whose presence says that Redis kept the list since it was last refilled.
    let completeKey: String

    /// `completeKey`: tests give each cache its own, so that they can lose their data without touching others.
    public static func connect(url: String, logger: Logger, completeKey: String = "identityd:revocations:complete") throws -> RedisCache {
        RedisCache(client: RedisClient(settings: try RedisSettings(url: url), logger: logger), logger: logger, completeKey: completeKey)
    }

    init(client: RedisClient, logger: Logger, completeKey: String) {
        self.client = client
        self.logger = logger
        self.completeKey = completeKey
        revocations = RedisRevocationCache(client: client, completeKey: completeKey)
        counters = RedisRateLimitCounters(client: client)
        dpopReplays = RedisDPoPReplayCache(client: client)
        bus = RedisInvalidationBus(client: client, logger: logger)
    }

    /// Whether every part answers: `false` means the node is `degraded` (revocation checks go to the store).
    public var isHealthy: Bool { client.isReachable && revocations.isComplete }

    /// Keeps the revocation list complete until cancelled, checking Redis every 100 ms: whenever the list is
    /// not complete, waits for Redis and refills the list with `live()` (the store's live revocations).
    /// (Invalidation messages missed meanwhile are the bus's concern: it drops every cache when it subscribes
    /// again.)
    public func run(live: @escaping @Sendable () async throws -> [Revocation]) async {
        var wasDegraded = false
        while !Task.isCancelled {
            if !revocations.isComplete {
                do {
                    _ = try await client.pipeline([["PING"]], probe: true)
                    let since = revocations.generation
                    let list = try await live()
                    try await refill(list, since: since)
                    logger.notice("redis revocation list complete", metadata: ["entries": "\(list.count)", "after_outage": "\(wasDegraded)"])
                } catch {
                    if !wasDegraded {
                        logger.warning("redis not usable: revocation checks go to the store until it is", metadata: ["error": "\(error)"])
                    }
                    wasDegraded = true
                }
            } else {
                wasDegraded = false
                // A heartbeat, so that an idle node notices an outage (and reports degraded) too, and that every
                // node notices a Redis that lost its data (restarted, flushed) even over an old connection.
                if let reply = try? await client.command("EXISTS", completeKey), reply != .integer(1) { revocations.markIncomplete() }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Writes `live` (every live revocation) to Redis and lets the list answer again — unless it was marked
    /// incomplete since `since` (a `generation` read before `live` was: a write failed meanwhile, which `live`
    /// may not hold, or a check found the list lost).
    public func refill(_ live: [Revocation], since: Int? = nil) async throws {
        let since = since ?? revocations.generation
        try await revocations.add(live)
        _ = try await client.command("SET", completeKey, "1")
        revocations.markComplete(ifUnchangedSince: since)
    }

    public func close() async {
        bus.stop()
        await client.close()
    }
}
