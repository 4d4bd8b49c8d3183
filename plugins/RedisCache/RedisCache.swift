import Foundation
import IdentityCore
import Logging
import Synchronization

/// identityd's shared state on Redis (DESIGN.md "Multi-node"): the revocation list, rate-limit counters and
/// the invalidation bus. PostgreSQL stays the source of truth; Redis holds nothing that cannot be rebuilt.
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

/// The revocation list in Redis: one key per revoked `sid` or `jti`, expiring with the last access token it
/// covers (`SET rev:{tenant}:{sid|jti}:{value} 1 PX {ms left}`).
public final class RedisRevocationCache: RevocationCache {
    let client: RedisClient
    /// The key a refill sets (see `RedisCache`).
    let completeKey: String
    /// Whether Redis holds every live revocation, and how often it was marked incomplete.
    private let state = Mutex((complete: false, generation: 0))

    init(client: RedisClient, completeKey: String) {
        self.client = client
        self.completeKey = completeKey
    }

    var isComplete: Bool { state.withLock { $0.complete } }
    var generation: Int { state.withLock { $0.generation } }

    func markIncomplete() {
        state.withLock { state in
            state.complete = false
            state.generation += 1
        }
    }

    func markComplete(ifUnchangedSince generation: Int) {
        state.withLock { state in
            if state.generation == generation { state.complete = true }
        }
    }

    static func key(_ tenantID: String, _ kind: Revocation.Kind, _ value: String) -> String {
        "rev:\(tenantID):\(kind.rawValue):\(value)"
    }

    public func add(_ revocations: [Revocation]) async throws {
        let now = Date()
        let commands = revocations.compactMap { revocation -> [String]? in
            let milliseconds = Int(revocation.expiresAt.timeIntervalSince(now) * 1000)
            guard milliseconds > 0 else { return nil }
            return ["SET", Self.key(revocation.tenantID, revocation.kind, revocation.value), "1", "PX", String(milliseconds)]
        }
        var start = commands.startIndex
        do {
            while start < commands.endIndex {
                let end = min(start + 500, commands.endIndex)
                for reply in try await client.pipeline(Array(commands[start..<end])) {
                    if case .error(let message) = reply { throw RedisError("redis: \(message)") }
                }
                start = end
            }
        } catch {
            // Redis may lack these now; a refill puts them there from the store.
            markIncomplete()
            throw error
        }
    }

    public func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool {
        guard isComplete else { throw RedisError("the Redis revocation list is being refilled") }
        let keys = [sid.map { Self.key(tenantID, .session, $0) }, jti.map { Self.key(tenantID, .token, $0) }].compactMap { $0 }
        guard !keys.isEmpty else { return false }
        // The keys, then whether Redis still holds the list: if it does after the keys were read, it did when
        // they were (a restart or flush takes the marker with the entries).
        let replies = try await client.pipeline([["EXISTS"] + keys, ["EXISTS", completeKey]])
        guard let count = replies[0].integerValue, let listKept = replies[1].integerValue else { throw RedisError("redis: unexpected reply to EXISTS") }
        guard listKept == 1 else {
            markIncomplete()
            throw RedisError("redis lost the revocation list; it is being refilled")
        }
        return count > 0
    }
}

/// Rate-limit counters in Redis, shared by every node: `INCR` + `PEXPIRE … NX` + `PTTL` in one round trip.
public final class RedisRateLimitCounters: RateLimitCounters {
    let client: RedisClient

    init(client: RedisClient) { self.client = client }

    public func increment(_ key: String, window: Duration) async throws -> RateCount {
        let replies = try await client.pipeline([["INCR", key], ["PEXPIRE", key, String(Self.milliseconds(window)), "NX"], ["PTTL", key]])
        guard let count = replies[0].integerValue, let left = replies[2].integerValue else { throw RedisError("redis: unexpected reply to INCR") }
        return RateCount(count: count, resetsIn: .milliseconds(max(left, 0)))
    }

    public func lockRemaining(_ key: String) async throws -> Duration? {
        guard let left = try await client.command("PTTL", key).integerValue else { throw RedisError("redis: unexpected reply to PTTL") }
        return left > 0 ? .milliseconds(left) : nil
    }

    public func lock(_ key: String, for duration: Duration) async throws {
        _ = try await client.command("SET", key, "1", "PX", String(Self.milliseconds(duration)))
    }

    public func remove(_ key: String) async throws {
        _ = try await client.command("DEL", key)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        max(1, Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000))
    }
}

/// Invalidations over Redis pub/sub (channel `identityd:invalidations`). Publishing goes through the pool;
/// receiving runs on a thread of its own with a dedicated connection, blocked in hiredis between messages.
/// Each message carries the sending node's id, so a node skips its own.
public final class RedisInvalidationBus: InvalidationBus {
    static let channel = "identityd:invalidations"
    let client: RedisClient
    let logger: Logger
    let nodeID = UUID().uuidString
    private let subscriber: Mutex<RedisConnection?> = Mutex(nil)
    private let stopped = Mutex(false)

    init(client: RedisClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func publish(_ invalidation: Invalidation) async {
        do {
            let payload = String(decoding: try JSONEncoder().encode(invalidation), as: UTF8.self)
            _ = try await client.command("PUBLISH", Self.channel, nodeID + " " + payload)
        } catch {
            logger.warning("could not publish an invalidation; other nodes catch up when their caches expire", metadata: ["error": "\(error)"])
        }
    }

    /// Starts receiving; `deliver` runs on the subscriber thread for every message from another node, and with
    /// `nil` after each (re)subscription, when messages may have been missed.
    public func start(_ deliver: @escaping @Sendable (Invalidation?) -> Void) {
        let thread = Thread { [self] in receive(deliver) }
        thread.name = "identityd-redis-subscriber"
        thread.start()
    }

    func stop() {
        stopped.withLock { $0 = true }
        subscriber.withLock { $0?.interrupt() }
    }

    private func receive(_ deliver: @escaping @Sendable (Invalidation?) -> Void) {
        var failures = 0
        while !stopped.withLock({ $0 }) {
            let connection = RedisConnection(settings: client.settings)
            subscriber.withLock { $0 = connection }
            do {
                _ = try connection.run([["SUBSCRIBE", Self.channel]])
                if failures > 0 { logger.notice("invalidation bus subscribed again") }
                failures = 0
                deliver(nil)
                while true {
                    guard case .array(let parts) = try connection.next(), parts.count == 3, parts[0] == .string("message"),
                          case .string(let text) = parts[2], let space = text.firstIndex(of: " ") else { continue }
                    guard text[..<space] != nodeID else { continue }
                    if let invalidation = try? JSONDecoder().decode(Invalidation.self, from: Data(text[text.index(after: space)...].utf8)) {
                        deliver(invalidation)
                    }
                }
            } catch {
                subscriber.withLock { $0 = nil }
                connection.close()
                if stopped.withLock({ $0 }) { break }
                if failures == 0 { logger.warning("invalidation bus lost its subscription", metadata: ["error": "\(error)"]) }
                failures += 1
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        subscriber.withLock { $0 = nil }
    }
}
