import Foundation

/// `POST /oauth/logout`: ends the session (family) a refresh token belongs to. The token must be the calling
/// client's; an unknown or already ended one is `invalid_grant`.
public struct LogoutEndpoint: Sendable {
    let gate: ClientGate
    let revoker: SessionRevoker
    let store: any SessionStore
    let tokens: TokenIssuer
    let clock: any IdentityClock

    public func logout(tenantID: String, refreshToken: String?, client credentials: ClientCredentials?, origin: RequestOrigin) async throws {
        let (context, caller) = try await gate.admit(tenantID: tenantID, credentials: credentials, origin: origin)
        guard let refreshToken, !refreshToken.isEmpty else { throw OAuthError.invalidRequest(description: "missing parameter refresh_token") }
        let key = try await tokens.refreshLookupKey(refreshToken, in: context, now: clock.now())
        guard let (record, session) = try await store.refreshToken(tenantID: tenantID, lookupKey: key), record.clientID == caller.id,
              session.status == .active else { throw OAuthError.invalidGrant(reason: "unknown_or_ended_session") }
        try await revoker.revoke(.sessions([session.id]), tenantID: tenantID, reason: "logout", origin: origin)
    }
}
