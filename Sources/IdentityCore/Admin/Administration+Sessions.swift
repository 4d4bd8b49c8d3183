import Foundation

extension Administration {
    public func sessions(_ tenantID: String, user id: String, by principal: AdminPrincipal) async throws -> AdminView.List<AdminView.SessionView> {
        _ = try await existingUser(tenantID, id, by: principal)
        return .init(items: try await store.liveSessions(tenantID: tenantID, userID: id, now: now).map(AdminView.SessionView.init))
    }

    /// `DELETE /tenants/{t}/users/{id}/sessions`: global logout of the user — every token family and every
    /// browser session (the next authorize asks for the password).
    public func revokeSessions(_ tenantID: String, user id: String, by principal: AdminPrincipal) async throws -> AdminView.RevokedSessions {
        _ = try await existingUser(tenantID, id, by: principal)
        try await endBrowserSessions(tenantID, user: id, reason: "admin_global_logout")
        return .init(revoked: try await runtime.revoker.revoke(.user(id), tenantID: tenantID, reason: "admin_global_logout").map(\.id))
    }

    /// Ends every browser session of the user (password change, deletion, global logout), each an audit event.
    func endBrowserSessions(_ tenantID: String, user id: String, reason: String) async throws {
        for browserSession in try await store.revokeBrowserSessions(tenantID: tenantID, userID: id, id: nil, at: now) {
            record(tenantID, .browserSessionRevoked, user: id, detail: "\(reason) id=\(browserSession)")
        }
    }

    /// `DELETE /tenants/{t}/sessions/{sid}`.
    public func revokeSession(_ tenantID: String, sid: String, by principal: AdminPrincipal) async throws -> AdminView.RevokedSessions {
        _ = try await authorize(principal, tenantID)
        guard try await store.session(tenantID: tenantID, id: sid) != nil else { throw AdminError.notFound("session") }
        return .init(revoked: try await runtime.revoker.revoke(.sessions([sid]), tenantID: tenantID, reason: "admin_revoked").map(\.id))
    }

    // MARK: browser sessions (single sign-on) and consents

    public func browserSessions(_ tenantID: String, user id: String, by principal: AdminPrincipal) async throws
        -> AdminView.List<AdminView.BrowserSessionView>
    {
        _ = try await existingUser(tenantID, id, by: principal)
        return .init(items: try await store.browserSessions(tenantID: tenantID, userID: id, now: now).map(AdminView.BrowserSessionView.init))
    }

    /// `DELETE /tenants/{t}/users/{id}/browser-sessions`: the user must sign in again in every browser, and the
    /// token families started in those browser sessions end (as RP-initiated logout ends them).
    public func revokeBrowserSessions(_ tenantID: String, user id: String, by principal: AdminPrincipal) async throws -> AdminView.RevokedSessions {
        _ = try await existingUser(tenantID, id, by: principal)
        let revoked = try await store.revokeBrowserSessions(tenantID: tenantID, userID: id, id: nil, at: now)
        for browserSession in revoked {
            record(tenantID, .browserSessionRevoked, user: id, detail: "admin id=\(browserSession)")
            try await runtime.revoker.revoke(.browserSession(browserSession), tenantID: tenantID, reason: "browser_session_revoked")
        }
        return .init(revoked: revoked)
    }

    /// `DELETE /tenants/{t}/browser-sessions/{id}`: the same for one browser session.
    public func revokeBrowserSession(_ tenantID: String, id: String, by principal: AdminPrincipal) async throws -> AdminView.RevokedSessions {
        _ = try await authorize(principal, tenantID)
        guard BrowserSession.isValidID(id), let session = try await store.browserSession(tenantID: tenantID, id: id) else {
            throw AdminError.notFound("browser session")
        }
        let revoked = try await store.revokeBrowserSessions(tenantID: tenantID, userID: nil, id: id, at: now)
        if !revoked.isEmpty { record(tenantID, .browserSessionRevoked, user: session.userID, detail: "admin id=\(id)") }
        try await runtime.revoker.revoke(.browserSession(id), tenantID: tenantID, reason: "browser_session_revoked")
        return .init(revoked: revoked)
    }

    public func consents(_ tenantID: String, user id: String, by principal: AdminPrincipal) async throws -> AdminView.List<AdminView.ConsentView> {
        _ = try await existingUser(tenantID, id, by: principal)
        return .init(items: try await store.consents(tenantID: tenantID, userID: id).map(AdminView.ConsentView.init))
    }

    /// `DELETE /tenants/{t}/users/{id}/consents[/{client_id}]`: the consent page is shown again, and the user's
    /// sessions with those clients end (a withdrawn consent takes the app's access with it).
    public func revokeConsents(_ tenantID: String, user id: String, client: String?, by principal: AdminPrincipal) async throws
        -> AdminView.RevokedConsents
    {
        _ = try await existingUser(tenantID, id, by: principal)
        let revoked = try await store.revokeConsents(tenantID: tenantID, userID: id, clientID: client)
        if client != nil, revoked.isEmpty { throw AdminError.notFound("consent") }
        let clients = Set(revoked)
        let sessions = try await store.liveSessions(tenantID: tenantID, userID: id, now: now).filter { clients.contains($0.clientID) }
        if !sessions.isEmpty {
            try await runtime.revoker.revoke(.sessions(sessions.map(\.id)), tenantID: tenantID, reason: "consent_revoked")
        }
        for clientID in revoked { record(tenantID, .consentRevoked, user: id, client: clientID) }
        return .init(revoked: revoked)
    }
}
