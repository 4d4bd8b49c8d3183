import Foundation

extension Administration {
    public func sessions(_ tenantID: String, user id: String, by principal: AdminPrincipal) async throws -> AdminView.List<AdminView.SessionView> {
        _ = try await existingUser(tenantID, id, by: principal)
        return .init(items: try await store.liveSessions(tenantID: tenantID, userID: id, now: now).map(AdminView.SessionView.init))
    }

    /// `DELETE /tenants/{t}/users/{id}/sessions`: global logout of the user.
    public func revokeSessions(_ tenantID: String, user id: String, by principal: AdminPrincipal) async throws -> AdminView.RevokedSessions {
        _ = try await existingUser(tenantID, id, by: principal)
        return .init(revoked: try await runtime.revoker.revoke(.user(id), tenantID: tenantID, reason: "admin_global_logout").map(\.id))
    }

    /// `DELETE /tenants/{t}/sessions/{sid}`.
    public func revokeSession(_ tenantID: String, sid: String, by principal: AdminPrincipal) async throws -> AdminView.RevokedSessions {
        _ = try await authorize(principal, tenantID)
        guard try await store.session(tenantID: tenantID, id: sid) != nil else { throw AdminError.notFound("session") }
        return .init(revoked: try await runtime.revoker.revoke(.sessions([sid]), tenantID: tenantID, reason: "admin_revoked").map(\.id))
    }
}
