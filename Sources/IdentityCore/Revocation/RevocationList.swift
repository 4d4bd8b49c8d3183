import Foundation

/// The revocation list: written through to the store (the source of truth) and the cache; read from the
/// cache, and from the store when the cache cannot answer, so a revoked token is never accepted.
public struct RevocationList: Sendable {
    let store: any RevocationStore
    let cache: any RevocationCache
    let bus: any InvalidationBus
    let logger: LogSink

    public init(store: any RevocationStore, cache: any RevocationCache, bus: any InvalidationBus = LocalInvalidationBus(), logger: LogSink) {
        self.store = store
        self.cache = cache
        self.bus = bus
        self.logger = logger
    }

    /// Copies the store's live revocations into the cache (on start).
    public func warm(now: Date) async throws {
        let live = try await store.revocations(liveAt: now)
        try await cache.add(live)
    }

    /// Records revocations that the store has already persisted (`revokeSessions` does so itself) in the
    /// cache, and tells the other nodes.
    public func publish(_ revocations: [Revocation]) async {
        guard !revocations.isEmpty else { return }
        do {
            try await cache.add(revocations)
        } catch {
            logger.warning("revocation cache unreachable; the store still holds the revocation", ["error": "\(error)"])
        }
        await bus.publish(.revocations(revocations))
    }

    /// Persists a revocation (a single access token) and publishes it.
    public func revoke(_ revocation: Revocation) async throws {
        try await store.addRevocation(revocation)
        await publish([revocation])
    }

    /// Whether the sid or jti is revoked at `now`: from the cache, or the store when the cache cannot answer.
    public func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool {
        do {
            return try await cache.isRevoked(tenantID: tenantID, sid: sid, jti: jti, now: now)
        } catch {
            return try await store.isRevoked(tenantID: tenantID, sid: sid, jti: jti, now: now)
        }
    }
}
