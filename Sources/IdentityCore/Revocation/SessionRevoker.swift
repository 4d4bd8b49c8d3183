import Foundation

/// Ends sessions: the store revokes each session with its refresh-token family and records its sid, then
/// the revocation list tells the cache and the other nodes, and each revoked session is an audit event.
/// Every path that ends a session (reuse, logout, RFC 7009, the admin API, password changes) goes here.
public struct SessionRevoker: Sendable {
    let store: any SessionStore
    let revocations: RevocationList
    let audit: AuditLog
    let clock: any IdentityClock

    public init(store: any SessionStore, revocations: RevocationList, audit: AuditLog, clock: any IdentityClock) {
        self.store = store
        self.revocations = revocations
        self.audit = audit
        self.clock = clock
    }

    /// Which sessions to end.
    public enum Selection: Sendable, Equatable {
        case sessions([String])
        case user(String)
        case client(String)
        /// Every session started in a browser session.
        case browserSession(String)
    }

    /// Revokes the selected sessions of `tenantID`; returns those this call revoked (not those already ended).
    @discardableResult
    public func revoke(_ selection: Selection, tenantID: String, reason: String, origin: RequestOrigin = .init()) async throws -> [Session] {
        let now = clock.now()
        let revoked: [Session]
        switch selection {
        case .sessions(let ids): revoked = try await store.revokeSessions(tenantID: tenantID, ids: ids, at: now)
        case .user(let userID): revoked = try await store.revokeUserSessions(tenantID: tenantID, userID: userID, at: now)
        case .client(let clientID): revoked = try await store.revokeClientSessions(tenantID: tenantID, clientID: clientID, at: now)
        case .browserSession(let id): revoked = try await store.revokeBrowserSessionSessions(tenantID: tenantID, browserSessionID: id, at: now)
        }
        await revocations.publish(revoked.map(\.revocation))
        for session in revoked {
            audit.record(.sessionRevoked, tenantID: session.tenantID, at: now, origin: origin, user: session.userID, client: session.clientID,
                         session: session.id, detail: reason)
        }
        return revoked
    }
}
