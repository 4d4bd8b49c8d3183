import Foundation

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

    public func slidingIncrement(_ key: String, window: Duration, now: Date) async throws -> Double {
        do { return try await primary.slidingIncrement(key, window: window, now: now) } catch {
            return try await fallback.slidingIncrement(key, window: window, now: now)
        }
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
