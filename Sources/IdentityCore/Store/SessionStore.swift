import Foundation

/// Sessions and their refresh-token families. The rotation rules live in `RefreshRotation`; a store only
/// reads and applies compare-and-set writes.
public protocol SessionStore: Sendable {
    /// Inserts a session and the first refresh token of its family (if any) atomically.
    func createSession(_ session: Session, firstToken: RefreshTokenRecord?) async throws
    /// The session with that sid in that tenant, whatever its status, or nil (also once purged).
    func session(tenantID: String, id: String) async throws -> Session?
    /// The user's sessions that are `active` and not past their expiry at `now`, newest first.
    func liveSessions(tenantID: String, userID: String, now: Date) async throws -> [Session]
    /// Up to `limit` of the tenant's sessions that are `active` and not past their expiry at `now`, oldest
    /// first (the operator's bulk revocations page through them).
    func liveSessions(tenantID: String, now: Date, limit: Int) async throws -> [Session]
    /// The refresh token with that lookup key in that tenant, with its session; nil when unknown.
    func refreshToken(tenantID: String, lookupKey: String) async throws -> (RefreshTokenRecord, Session)?
    /// Applies `write` in one transaction (or one statement): if the presented token is in `expectedState`
    /// (and, with `graceLimit`, is not superseded and has had fewer grace retries than the limit) and the
    /// session is live at `write.now`, sets the token's state (counting a grace retry), marks `supersedes`
    /// superseded, slides the session and inserts the successor. Two concurrent calls expecting `active` for
    /// the same token: exactly one gets `.applied`; `graceLimit` concurrent grace retries at most apply.
    func applyRefresh(_ write: RefreshWrite) async throws -> RefreshWriteResult
    /// Marks the sessions revoked (those not already revoked) and every refresh token of their families
    /// `revoked`, and records a `Revocation` for each sid until its `accessExpiresAt`, all in one transaction.
    /// Returns the sessions that this call revoked.
    func revokeSessions(tenantID: String, ids: [String], at now: Date) async throws -> [Session]
    /// `revokeSessions` for every session of a user (active or not yet expired). Returns those revoked.
    func revokeUserSessions(tenantID: String, userID: String, at now: Date) async throws -> [Session]
    /// Same for every session of a client.
    func revokeClientSessions(tenantID: String, clientID: String, at now: Date) async throws -> [Session]
    /// Same for every session started in a browser session (RP-initiated logout).
    func revokeBrowserSessionSessions(tenantID: String, browserSessionID: String, at now: Date) async throws -> [Session]
}
