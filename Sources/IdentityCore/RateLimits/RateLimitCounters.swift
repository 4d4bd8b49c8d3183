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
