import Foundation

/// `GET|POST /oauth/end_session` (OpenID Connect RP-Initiated Logout 1.0): ends the browser session and every
/// token family started in it, then returns to the client's registered `post_logout_redirect_uri` (exact
/// match) with `state`, or shows that the user is signed out.
///
/// With a valid `id_token_hint` (signed by this tenant; it may have expired) for the browser's user the
/// logout happens at once. Without one (or with one for another user), a page asks the user to confirm (a
/// form with the CSRF cookie's value), so that another site cannot sign the user out with a link.
public struct EndSessionEndpoint: Sendable {
    let directory: TenantDirectory
    let authorize: AuthorizeEndpoint
    let browserSessions: any BrowserSessionStore
    let sessions: any SessionStore
    let revoker: SessionRevoker
    let audit: AuditLog
    let random: any RandomSource
    let clock: any IdentityClock

    public enum Outcome: Sendable, Equatable {
        /// Back to the client.
        case redirect(location: String)
        /// "You are signed out."
        case signedOut(tenantName: String)
        /// "Sign out?", with the form's fields (the parameters and the CSRF value, also the cookie's).
        case confirm(tenantName: String, fields: [String: String], csrf: String)
        case errorPage(status: Int, message: String)
    }

    /// `confirmed`: a POST of the confirmation page; `form` carries its `csrf`.
    public func endSession(tenantID: String, parameters: [String: String], confirmed: Bool, browser: AuthorizeEndpoint.Browser) async throws
        -> Outcome
    {
        guard let context = try await directory.context(for: tenantID) else { return .errorPage(status: 404, message: "This page does not exist.") }
        var hint: IDTokenClaims?
        if let token = parameters["id_token_hint"] {
            guard let claims = await context.keyring.verify(token, typ: "jwt", as: IDTokenClaims.self), claims.iss == context.issuer else {
                return .errorPage(status: 400, message: "The application sent a sign-out request this service did not issue.")
            }
            hint = claims
        }
        let clientID = hint?.aud ?? parameters["client_id"]
        if let named = parameters["client_id"], let hint, named != hint.aud {
            return .errorPage(status: 400, message: "The sign-out request names two different applications.")
        }
        var location: String?
        if let uri = parameters["post_logout_redirect_uri"] {
            guard let clientID, Client.isValidID(clientID), let client = try await directory.client(tenantID: tenantID, id: clientID),
                  client.postLogoutRedirectURIs.contains(uri) else {
                return .errorPage(status: 400, message: "The application asked to return to an address it has not registered.")
            }
            location = parameters["state"].map { AuthorizationRequest.append([("state", $0)], to: uri) } ?? uri
        }
        let cookieSession = try await authorize.liveBrowserSession(browser.sessionCookie, tenantID: tenantID)
        // A hint for another user than the browser's is no reason to sign this one out unasked.
        let hinted = hint.map { hint in cookieSession.map { $0.userID == hint.sub } ?? true } ?? false
        if !hinted {
            guard confirmed, let csrf = parameters["csrf"], let cookie = browser.csrfCookie,
                  ConstantTime.equal(Array(csrf.utf8), Array(cookie.utf8)) else {
                let csrf = browser.csrfCookie.flatMap { Base64URL.decode($0)?.count == 16 ? $0 : nil } ?? random.token(bytes: 16)
                var fields = parameters.filter { ["post_logout_redirect_uri", "state", "client_id"].contains($0.key) }
                fields["csrf"] = csrf
                return .confirm(tenantName: context.tenant.name, fields: fields, csrf: csrf)
            }
        }
        // The browser session the cookie names, and the one the hinted session was started in (the same one,
        // unless the logout comes from another browser): each ends with every token family started in it.
        var ended = Set<String>()
        if let cookieSession { ended.insert(cookieSession.id) }
        if let sid = hint?.sid, let session = try await sessions.session(tenantID: tenantID, id: sid), session.userID == hint?.sub,
           let browserSessionID = session.browserSessionID {
            ended.insert(browserSessionID)
        }
        let now = clock.now()
        for id in ended.sorted() {
            let user = try await browserSessions.browserSession(tenantID: tenantID, id: id)?.userID
            if try await !browserSessions.revokeBrowserSessions(tenantID: tenantID, userID: nil, id: id, at: now).isEmpty {
                audit.record(.browserSessionRevoked, tenantID: tenantID, at: now, origin: browser.origin, user: user, client: clientID,
                             detail: "rp_logout")
            }
            try await revoker.revoke(.browserSession(id), tenantID: tenantID, reason: "rp_logout", origin: browser.origin)
        }
        if let sid = hint?.sid {
            try await revoker.revoke(.sessions([sid]), tenantID: tenantID, reason: "rp_logout", origin: browser.origin)
        }
        return location.map { .redirect(location: $0) } ?? .signedOut(tenantName: context.tenant.name)
    }
}
