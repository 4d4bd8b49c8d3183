import Foundation

/// The fast revocation lookup every node consults: in-process, or shared (Redis) so that every node sees a
/// revocation at once. Entries expire on their own at `Revocation.expiresAt`.
public protocol RevocationCache: Sendable {
    /// Records the revocations. Throws when the cache cannot be reached.
    func add(_ revocations: [Revocation]) async throws
    /// Whether the sid or jti of `tenantID` is revoked at `now`. Throws when the cache cannot answer, and
    /// the caller then asks the store.
    func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool
    /// Keeps revocations another node announced (and already wrote to the shared cache) in this node's memory.
    func learn(_ revocations: [Revocation])
}

extension RevocationCache {
    public func learn(_ revocations: [Revocation]) {}
}
