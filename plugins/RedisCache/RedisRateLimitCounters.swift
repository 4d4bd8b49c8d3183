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
