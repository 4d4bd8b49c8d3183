import Foundation
import Synchronization

/// Where the `jti`s of accepted DPoP proofs are remembered for as long as the proofs could be accepted, so
/// that a proof is accepted once (RFC 9449 §11.1). With Redis every node shares one cache (`SET NX PX`);
/// without it, each node its own.
public protocol DPoPReplayCache: Sendable {
    /// Records `key` for `ttl`; true when it was not recorded already (the proof's first use), false when it
    /// was. Of any number of concurrent calls for one key, exactly one gets true.
    func firstUse(_ key: String, ttl: Duration) async throws -> Bool
}

/// This node's memory: bounded (the oldest entries go first when full), expired entries swept as it fills.
public final class InProcessDPoPReplayCache: DPoPReplayCache {
    private struct State {
        var expiries: [String: ContinuousClock.Instant] = [:]
        var order: [(String, ContinuousClock.Instant)] = []
        var head = 0
    }

    private let state = Mutex(State())
    private let capacity: Int

    public init(capacity: Int = 500_000) { self.capacity = capacity }

    public func firstUse(_ key: String, ttl: Duration) async throws -> Bool {
        let now = ContinuousClock.now
        return state.withLock { state in
            if let expiry = state.expiries[key], expiry > now { return false }
            // Drop what has expired (in insertion order, which is expiry order for one ttl), then the oldest while full.
            while state.head < state.order.count, state.order[state.head].1 <= now || state.expiries.count >= capacity {
                let (old, expiry) = state.order[state.head]
                if state.expiries[old] == expiry { state.expiries[old] = nil }
                state.head += 1
            }
            if state.head > 4096, state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
            let expiry = now + ttl
            state.expiries[key] = expiry
            state.order.append((key, expiry))
            return true
        }
    }
}

/// The shared cache while it answers, this node's own when it does not: proofs keep being checked for
/// replay (per node) while Redis is down.
public struct FallbackDPoPReplayCache: DPoPReplayCache {
    let primary: any DPoPReplayCache
    let fallback: any DPoPReplayCache

    public init(primary: any DPoPReplayCache, fallback: any DPoPReplayCache = InProcessDPoPReplayCache()) {
        self.primary = primary
        self.fallback = fallback
    }

    public func firstUse(_ key: String, ttl: Duration) async throws -> Bool {
        do { return try await primary.firstUse(key, ttl: ttl) } catch { return try await fallback.firstUse(key, ttl: ttl) }
    }
}
