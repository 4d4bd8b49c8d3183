import Foundation

/// `POST /oauth/revoke` (RFC 7009). A refresh token ends its whole session (family and access tokens); an
/// access token is put on the revocation list until it expires. Unknown or invalid tokens are not an error;
/// another client's token is refused with `unauthorized_client`.
public struct RevocationEndpoint: Sendable {
    let gate: ClientGate
    let dpop: DPoPGate
    let revocations: RevocationList
    let revoker: SessionRevoker
    let store: any SessionStore
    let tokens: TokenIssuer
    let audit: AuditLog
    let clock: any IdentityClock

    /// A DPoP proof, when one comes (a public client holding a key sends it), is checked as at the token
    /// endpoint; none is required to revoke.
    public func revoke(tenantID: String, token: String?, client credentials: ClientCredentials?, dpop evidence: DPoPGate.Evidence? = nil,
                       origin: RequestOrigin) async throws {
        let (context, caller) = try await gate.admit(tenantID: tenantID, credentials: credentials, origin: origin)
        _ = try await dpop.check(evidence, in: context, client: caller, required: false, origin: origin)
        guard let token, !token.isEmpty else { throw OAuthError.invalidRequest(description: "missing parameter token") }
        let now = clock.now()
        if let claims = await context.keyring.verify(token, typ: "at+jwt", as: AccessTokenClaims.self), claims.iss == context.issuer {
            guard claims.clientID == caller.id else { throw OAuthError.unauthorizedClient(reason: "token_of_another_client") }
            guard now.secondsSince1970 < claims.exp else { return }
            try await revocations.revoke(Revocation(tenantID: tenantID, kind: .token, value: claims.jti,
                                                    expiresAt: Date(timeIntervalSince1970: TimeInterval(claims.exp))))
            audit.record(.tokenRevoked, tenantID: tenantID, at: now, origin: origin, user: claims.sid == nil ? nil : claims.sub,
                         client: caller.id, session: claims.sid, token: TokenDigest.prefix(token), detail: "access_token")
            return
        }
        guard let key = try? await tokens.refreshLookupKey(token, in: context, now: now),
              let (record, session) = try await store.refreshToken(tenantID: tenantID, lookupKey: key) else { return }
        guard record.clientID == caller.id else { throw OAuthError.unauthorizedClient(reason: "token_of_another_client") }
        try await revoker.revoke(.sessions([session.id]), tenantID: tenantID, reason: "refresh_token_revoked", origin: origin)
        audit.record(.tokenRevoked, tenantID: tenantID, at: now, origin: origin, user: session.userID, client: caller.id, session: session.id,
                     token: TokenDigest.prefix(token), detail: "refresh_token")
    }
}
