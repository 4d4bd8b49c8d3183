import Foundation

/// A shared cache (Redis, or the store itself) with this node's memory in front: revocations this node made
/// or heard of on the invalidation bus answer from memory, everything else from the shared cache. A revoked
/// token is refused here even if the shared cache is lost afterwards.
public final class LayeredRevocationCache: RevocationCache {
    let local: InProcessRevocationCache
    let shared: any RevocationCache

    public init(shared: any RevocationCache, clock: any IdentityClock = SystemClock()) {
        self.shared = shared
        local = InProcessRevocationCache(clock: clock)
    }

    public func add(_ revocations: [Revocation]) async throws {
        local.learn(revocations)
        try await shared.add(revocations)
    }

    public func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool {
        if try await local.isRevoked(tenantID: tenantID, sid: sid, jti: jti, now: now) { return true }
        return try await shared.isRevoked(tenantID: tenantID, sid: sid, jti: jti, now: now)
    }

    public func learn(_ revocations: [Revocation]) { local.learn(revocations) }
}
