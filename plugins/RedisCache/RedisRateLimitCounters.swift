import Foundation
import IdentityCore
import Logging
import Synchronization

/// Rate-limit counters in Redis, shared by every node: `INCR` + `PEXPIRE … NX` + `PTTL` in one round trip.
public final class RedisRateLimitCounters: RateLimitCounters {
    let client: RedisClient

    init(client: RedisClient) { self.client = client }

    public func increment(_ key: String, window: Duration) async throws -> RateCount {
        let replies = try await client.pipeline([["INCR", key], ["PEXPIRE", key, String(Self.milliseconds(window)), "NX"], ["PTTL", key]])
        guard let count = replies[0].integerValue, let left = replies[2].integerValue else { throw RedisError("redis: unexpected reply to INCR") }
        return RateCount(count: count, resetsIn: .milliseconds(max(left, 0)))
    }

    public func slidingIncrement(_ key: String, window: Duration, now: Date) async throws -> Double {
        let (index, elapsed) = Self.bucket(now, window: window)
        let current = "\(key):\(index)"
        let replies = try await client.pipeline([["INCR", current], ["PEXPIRE", current, String(Self.milliseconds(window * 2)), "NX"],
                                                 ["GET", "\(key):\(index - 1)"]])
        guard let count = replies[0].integerValue else { throw RedisError("redis: unexpected reply to INCR") }
        let previous: Int = switch replies[2] {
        case .string(let text): Int(text) ?? 0
        default: 0
        }
        return Self.sliding(current: count, previous: previous, elapsed: elapsed)
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
