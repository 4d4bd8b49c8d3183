import Foundation
import Synchronization

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
