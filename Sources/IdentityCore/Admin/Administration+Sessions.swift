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

    /// The most sessions one bulk revocation ends; `more` in the answer says to call again.
    static let bulkLimit = 100_000

    /// `POST /tenants/{t}/sessions/revoke`, the incident playbook: every live session of a client
    /// (`{"client_id": …}`), of sessions started from an address range (`{"ip_prefix": "203.0.113.0/24"}`), or
    /// of the whole tenant (`{"all": true}`). Exactly one of them. Each session ended is a `session_revoked`
    /// event whose detail names the action.
    public func revokeSessionsInBulk(_ tenantID: String, _ json: JSONValue, by principal: AdminPrincipal) async throws -> AdminView.BulkRevocation {
        _ = try await authorize(principal, tenantID)
        let body = try JSONObjectReader(json)
        try body.rejectUnknown(["client_id", "ip_prefix", "all"])
        guard body.fields.count == 1 else { throw AdminError.invalidField("client_id", "give exactly one of client_id, ip_prefix, all") }
        if let clientID = try body.string("client_id") {
            guard try await store.client(tenantID: tenantID, id: clientID) != nil else { throw AdminError.notFound("client") }
            let revoked = try await runtime.revoker.revoke(.client(clientID), tenantID: tenantID, reason: "admin_bulk_client")
            return .init(revoked: revoked.count, more: false)
        }
        let match: (Session) -> Bool
        let reason: String
        if let prefix = try body.string("ip_prefix") {
            guard let range = IPRange(prefix) else { throw AdminError.invalidField("ip_prefix", "must be an address or a CIDR range (203.0.113.0/24, 2001:db8::/48)") }
            match = { session in session.ip.flatMap(IPAddress.init).map(range.contains) ?? false }
            reason = "admin_bulk_ip_prefix"
        } else {
            guard try body.bool("all") == true else { throw AdminError.invalidField("all", "must be true") }
            match = { _ in true }
            reason = "admin_bulk_tenant"
        }
        let live = try await store.liveSessions(tenantID: tenantID, now: now, limit: Self.bulkLimit)
        let chosen = live.filter(match).map(\.id)
        var revoked = 0
        for start in stride(from: 0, to: chosen.count, by: 500) {
            revoked += try await runtime.revoker.revoke(.sessions(Array(chosen[start..<min(start + 500, chosen.count)])), tenantID: tenantID,
                                                        reason: reason).count
        }
        return .init(revoked: revoked, more: live.count == Self.bulkLimit)
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
