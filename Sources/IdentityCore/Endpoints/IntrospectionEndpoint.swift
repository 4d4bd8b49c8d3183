import Foundation

/// `POST /oauth/introspect` (RFC 7662). The caller authenticates as a confidential client of the tenant (a
/// public client proves nothing with its id alone, RFC 7662 §2.1). Access tokens of any client of the tenant
/// are described; a refresh token only to the client it was issued to.
public struct IntrospectionEndpoint: Sendable {
    let gate: ClientGate
    let verifier: AccessTokenVerifier
    let store: any SessionStore
    let tokens: TokenIssuer
    /// For usernames.
    let directory: TenantDirectory
    let clock: any IdentityClock

    public func introspect(tenantID: String, token: String?, client credentials: ClientCredentials?, origin: RequestOrigin) async throws
        -> IntrospectionResponse
    {
        let (context, caller) = try await gate.admit(tenantID: tenantID, credentials: credentials, origin: origin)
        guard caller.kind == .confidential else { throw OAuthError.invalidClient(reason: "public_client_cannot_introspect") }
        guard let token, !token.isEmpty else { throw OAuthError.invalidRequest(description: "missing parameter token") }
        if let claims = try await verifier.verify(token, in: context) {
            var username: String?
            if claims.sid != nil { username = try await directory.userForClaims(tenantID: tenantID, id: claims.sub)?.username }
            return IntrospectionResponse(active: true, scope: claims.scope, clientID: claims.clientID, username: username,
                                         tokenType: TokenResponse.tokenType(claims), exp: claims.exp, iat: claims.iat, sub: claims.sub,
                                         aud: claims.aud, iss: claims.iss, jti: claims.jti, sid: claims.sid, acr: claims.acr, authTime: claims.authTime,
                                         cnf: claims.cnf)
        }
        let now = clock.now()
        guard let key = try? await tokens.refreshLookupKey(token, in: context, now: now),
              let (record, session) = try await store.refreshToken(tenantID: tenantID, lookupKey: key),
              record.clientID == caller.id, record.state == .active, session.isLive(at: now) else { return .inactive }
        let user = try await directory.userForClaims(tenantID: tenantID, id: session.userID)
        return IntrospectionResponse(active: true, scope: Scope.join(session.scopes), clientID: record.clientID, username: user?.username,
                                     tokenType: "refresh_token", exp: min(session.idleExpiresAt, session.absoluteExpiresAt).secondsSince1970,
                                     iat: record.createdAt.secondsSince1970, sub: session.userID, aud: nil, iss: context.issuer, jti: nil,
                                     sid: session.id, acr: session.acr.rawValue, authTime: session.authTime.secondsSince1970,
                                     cnf: session.dpopJKT.map(AccessTokenClaims.Confirmation.init(jkt:)))
    }
}
