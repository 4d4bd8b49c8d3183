import Foundation

/// The store as the shared revocation cache, for several nodes on one database without Redis: what a node
/// neither revoked nor heard of on the bus (`LayeredRevocationCache`'s memory) is asked of the store, so a
/// revocation made on any node is seen by every node's next check.
public struct StoreRevocationCache: RevocationCache {
    let store: any RevocationStore

    public init(store: any RevocationStore) { self.store = store }

    /// Nothing to do: every revocation is in the store before it is published.
    public func add(_ revocations: [Revocation]) async throws {}

    public func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool {
        try await store.isRevoked(tenantID: tenantID, sid: sid, jti: jti, now: now)
    }
}
