import Foundation
import IdentityCore

/// The DPoP replay cache in Redis, shared by every node: `SET key 1 NX PX ttl` — set only if absent, so of
/// the nodes that see one proof, exactly one is told it is the first.
public final class RedisDPoPReplayCache: DPoPReplayCache {
    let client: RedisClient

    init(client: RedisClient) { self.client = client }

    public func firstUse(_ key: String, ttl: Duration) async throws -> Bool {
        switch try await client.command("SET", "identityd:" + key, "1", "NX", "PX", String(RedisRateLimitCounters.milliseconds(ttl))) {
        case .string("OK"): return true
        case .null: return false
        case let reply: throw RedisError("redis: unexpected reply to SET NX: \(reply)")
        }
    }
}
