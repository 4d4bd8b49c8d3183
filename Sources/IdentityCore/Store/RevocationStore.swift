import Foundation

/// The persistent revocation list (sids and jtis); the revocation cache is loaded from it and falls back to it.
public protocol RevocationStore: Sendable {
    /// Records `revocation`; recording the same kind and value again keeps the later expiry.
    func addRevocation(_ revocation: Revocation) async throws
    /// Every revocation not expired at `now`.
    func revocations(liveAt now: Date) async throws -> [Revocation]
    /// Whether any of the given ids of `tenantID` is revoked and not expired at `now`.
    func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool
}
