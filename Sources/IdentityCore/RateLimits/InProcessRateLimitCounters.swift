import Foundation
import Synchronization

/// `RateLimitCounters` in this process's memory: fixed windows, pruned as they expire. Bounded: past
/// `capacity` keys the expired ones go, and if that is not enough, the half that expires soonest — so keys
/// made up by clients cannot grow memory without limit, and pruning runs at most once per `capacity / 2`
/// new keys.
public final class InProcessRateLimitCounters: RateLimitCounters {
    private struct Entry { var count: Int; var expires: ContinuousClock.Instant }
    private let entries = Mutex<[String: Entry]>([:])
    private let capacity: Int

    public init(capacity: Int = 200_000) { self.capacity = max(2, capacity) }

    /// Keys held now.
    public var count: Int { entries.withLock { $0.count } }

    public func increment(_ key: String, window: Duration) async throws -> RateCount {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            var entry = entries[key].flatMap { $0.expires > now ? $0 : nil } ?? Entry(count: 0, expires: now + window)
            entry.count += 1
            store(entry, at: key, in: &entries, now: now)
            return RateCount(count: entry.count, resetsIn: entry.expires - now)
        }
    }

    public func slidingIncrement(_ key: String, window: Duration, now: Date) async throws -> Double {
        let (index, elapsed) = Self.bucket(now, window: window)
        let clock = ContinuousClock.now
        return entries.withLock { entries in
            let current = "\(key):\(index)", previous = "\(key):\(index - 1)"
            var entry = entries[current].flatMap { $0.expires > clock ? $0 : nil } ?? Entry(count: 0, expires: clock + window * 2)
            entry.count += 1
            store(entry, at: current, in: &entries, now: clock)
            let before = entries[previous].flatMap { $0.expires > clock ? $0.count : nil } ?? 0
            return Self.sliding(current: entry.count, previous: before, elapsed: elapsed)
        }
    }

    public func lockRemaining(_ key: String) async throws -> Duration? {
        let now = ContinuousClock.now
        return entries.withLock { entries in entries[key].flatMap { $0.expires > now ? $0.expires - now : nil } }
    }

    public func lock(_ key: String, for duration: Duration) async throws {
        let now = ContinuousClock.now
        entries.withLock { store(Entry(count: 1, expires: now + duration), at: key, in: &$0, now: now) }
    }

    public func remove(_ key: String) async throws {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }

    private func store(_ entry: Entry, at key: String, in entries: inout [String: Entry], now: ContinuousClock.Instant) {
        if entries[key] == nil, entries.count >= capacity {
            entries = entries.filter { $0.value.expires > now }
            if entries.count > capacity / 2 {
                let keep = entries.sorted { $0.value.expires > $1.value.expires }.prefix(capacity / 2)
                entries = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
            }
        }
        entries[key] = entry
    }
}
