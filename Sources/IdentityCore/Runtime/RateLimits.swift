import Foundation
import Synchronization

/// The counters behind rate limits: in this process (one node), or shared by every node (Redis).
public protocol RateLimitCounters: Sendable {
    /// Adds one to the counter `key`, which starts a `window` when it does not exist; returns the new count and
    /// how long its window has left. Throws when the counters cannot be reached.
    func increment(_ key: String, window: Duration) async throws -> RateCount
    /// How long the lock `key` has left; nil when there is none.
    func lockRemaining(_ key: String) async throws -> Duration?
    /// Sets the lock `key` for `duration` (replacing a shorter or longer one).
    func lock(_ key: String, for duration: Duration) async throws
    /// Forgets the counter or lock `key`.
    func remove(_ key: String) async throws
}

public struct RateCount: Sendable, Equatable {
    public var count: Int
    public var resetsIn: Duration
    public init(count: Int, resetsIn: Duration) {
        self.count = count
        self.resetsIn = resetsIn
    }
}

/// `RateLimitCounters` in this process's memory: fixed windows, pruned as they expire.
public final class InProcessRateLimitCounters: RateLimitCounters {
    private struct Entry { var count: Int; var expires: ContinuousClock.Instant }
    private let entries = Mutex<[String: Entry]>([:])
    private let pruneAbove: Int

    public init(pruneAbove: Int = 100_000) { self.pruneAbove = pruneAbove }

    public func increment(_ key: String, window: Duration) async throws -> RateCount {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            if entries.count >= pruneAbove { entries = entries.filter { $0.value.expires > now } }
            var entry = entries[key].flatMap { $0.expires > now ? $0 : nil } ?? Entry(count: 0, expires: now + window)
            entry.count += 1
            entries[key] = entry
            return RateCount(count: entry.count, resetsIn: entry.expires - now)
        }
    }

    public func lockRemaining(_ key: String) async throws -> Duration? {
        let now = ContinuousClock.now
        return entries.withLock { entries in entries[key].flatMap { $0.expires > now ? $0.expires - now : nil } }
    }

    public func lock(_ key: String, for duration: Duration) async throws {
        let now = ContinuousClock.now
        entries.withLock { $0[key] = Entry(count: 1, expires: now + duration) }
    }

    public func remove(_ key: String) async throws {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }
}

/// Shared counters while they answer, this node's own when they do not: limits keep holding (per node)
/// while Redis is down.
public struct FallbackRateLimitCounters: RateLimitCounters {
    let primary: any RateLimitCounters
    let fallback: any RateLimitCounters

    public init(primary: any RateLimitCounters, fallback: any RateLimitCounters = InProcessRateLimitCounters()) {
        self.primary = primary
        self.fallback = fallback
    }

    public func increment(_ key: String, window: Duration) async throws -> RateCount {
        do { return try await primary.increment(key, window: window) } catch { return try await fallback.increment(key, window: window) }
    }

    public func lockRemaining(_ key: String) async throws -> Duration? {
        do { return try await primary.lockRemaining(key) } catch { return try await fallback.lockRemaining(key) }
    }

    public func lock(_ key: String, for duration: Duration) async throws {
        do { try await primary.lock(key, for: duration) } catch { try await fallback.lock(key, for: duration) }
    }

    public func remove(_ key: String) async throws {
        try? await fallback.remove(key)
        try await primary.remove(key)
    }
}

extension IdentityRuntime {
    /// Counts a token request against the tenant's per-IP limit (before client authentication, so failed
    /// attempts count) or per-client limit (after it, so nobody can spend another client's budget).
    func checkTokenRequestLimit(_ kind: String, _ value: String?, policy: RateLimitPolicy, tenantID: String) async throws {
        let limit = kind == "ip" ? policy.tokenRequestsPerIP : policy.tokenRequestsPerClient
        guard limit > 0, let value else { return }
        // A limit that cannot be counted does not refuse requests (the fallback counters make this rare).
        let count = try? await limits.increment("rl:\(tenantID):\(kind):\(value)", window: .seconds(policy.window))
        if let count, count.count > limit {
            throw OAuthError.rateLimited(retryAfter: Self.seconds(count.resetsIn), reason: "\(kind)_rate_limit")
        }
    }

    /// Refuses a password grant for a username locked out by failed attempts.
    func checkLoginLockout(tenantID: String, username: String, policy: RateLimitPolicy) async throws {
        guard policy.failedLoginsPerUser > 0 else { return }
        if let remaining = try? await limits.lockRemaining(Self.lockKey(tenantID, username)) {
            throw OAuthError.rateLimited(retryAfter: Self.seconds(remaining), reason: "login_locked_out")
        }
    }

    /// Records a failed password attempt; locks the username out once it reached the policy's limit.
    func recordLoginFailure(tenantID: String, username: String, policy: RateLimitPolicy) async {
        guard policy.failedLoginsPerUser > 0 else { return }
        let failures = try? await limits.increment("lf:\(tenantID):\(username.lowercased())", window: .seconds(policy.failedLoginWindow))
        if let failures, let seconds = policy.lockout(afterFailures: failures.count) {
            try? await limits.lock(Self.lockKey(tenantID, username), for: .seconds(seconds))
        }
    }

    /// Forgets failed attempts after a successful login.
    func recordLoginSuccess(tenantID: String, username: String, policy: RateLimitPolicy) async {
        guard policy.failedLoginsPerUser > 0 else { return }
        try? await limits.remove("lf:\(tenantID):\(username.lowercased())")
    }

    private static func lockKey(_ tenantID: String, _ username: String) -> String { "ll:\(tenantID):\(username.lowercased())" }

    private static func seconds(_ duration: Duration) -> Int {
        max(1, Int((Double(duration.components.attoseconds) / 1e18 + Double(duration.components.seconds)).rounded(.up)))
    }
}
