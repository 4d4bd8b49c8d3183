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
    /// Adds one to the sliding-window counter `key` and returns its count over the `window` that ends at `now`,
    /// estimated from two aligned buckets as Cloudflare and nginx do: this bucket's count plus the previous
    /// bucket's, weighted by the part of it still inside the window. One round trip with Redis.
    func slidingIncrement(_ key: String, window: Duration, now: Date) async throws -> Double
}

extension RateLimitCounters {
    /// The bucket `now` falls in, and how far into it (0..<1).
    public static func bucket(_ now: Date, window: Duration) -> (index: Int64, elapsed: Double) {
        let seconds = Double(window.components.seconds) + Double(window.components.attoseconds) / 1e18
        let position = now.timeIntervalSince1970 / max(seconds, 0.001)
        return (Int64(position.rounded(.down)), position - position.rounded(.down))
    }

    /// The estimate from the two buckets' counts.
    public static func sliding(current: Int, previous: Int, elapsed: Double) -> Double { Double(current) + Double(previous) * (1 - elapsed) }
}

public struct RateCount: Sendable, Equatable {
    public var count: Int
    public var resetsIn: Duration
    public init(count: Int, resetsIn: Duration) {
        self.count = count
        self.resetsIn = resetsIn
    }
}
