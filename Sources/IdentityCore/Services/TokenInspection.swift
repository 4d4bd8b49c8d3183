import Foundation

/// An RFC 7662 introspection answer; `active: false` carries nothing else.
public struct IntrospectionResponse: Sendable, Equatable, Encodable {
    public var active: Bool
    public var scope: String?
    public var clientID: String?
    public var username: String?
    public var tokenType: String?
    public var exp: Int64?
    public var iat: Int64?
    public var sub: String?
    public var aud: String?
    public var iss: String?
    public var jti: String?
    public var sid: String?
    public var acr: String?
    public var authTime: Int64?

    public static let inactive = IntrospectionResponse(active: false)

    enum CodingKeys: String, CodingKey {
        case active, scope, username, exp, iat, sub, aud, iss, jti, sid, acr
        case clientID = "client_id"
        case tokenType = "token_type"
        case authTime = "auth_time"
    }
}

/// OpenID Connect UserInfo claims.
public struct UserInfo: Sendable, Equatable, Encodable {
    public var sub: String
    public var preferredUsername: String
    public var email: String?

    enum CodingKeys: String, CodingKey {
        case sub, email
        case preferredUsername = "preferred_username"
    }
}

extension IdentityRuntime {
    /// The claims of `token` if it is an access token of this tenant that is signed by a published key,
    /// unexpired, and neither it (jti) nor its session (sid) revoked; nil otherwise.
    public func verifyAccessToken(_ token: String, in context: TenantContext) async throws -> AccessTokenClaims? {
        guard let claims = await context.keyring.verify(token, typ: "at+jwt", as: AccessTokenClaims.self),
              claims.iss == context.issuer else { return nil }
        let now = clock.now()
        guard now.secondsSince1970 < claims.exp else { return nil }
        let revoked = try await revocations.isRevoked(tenantID: context.tenant.id, sid: claims.sid, jti: claims.jti, now: now)
        return revoked ? nil : claims
    }

    /// RFC 7662 for `tenantID`; the caller authenticates as any client of the tenant. Access tokens of any
    /// client of the tenant are described; a refresh token only to the client it was issued to.
    public func introspect(tenantID: String, token: String?, client credentials: ClientCredentials?, origin: RequestOrigin) async throws
        -> IntrospectionResponse
    {
        let context = try await activeTenant(tenantID)
        let caller = try await authenticateClient(credentials, in: context, origin: origin)
        guard let token, !token.isEmpty else { throw OAuthError.invalidRequest(description: "missing parameter token") }
        if let claims = try await verifyAccessToken(token, in: context) {
            var username: String?
            if claims.sid != nil { username = try await directory.userForClaims(tenantID: tenantID, id: claims.sub)?.username }
            return IntrospectionResponse(active: true, scope: claims.scope, clientID: claims.clientID, username: username,
                                         tokenType: claims.cnf == nil ? "Bearer" : "DPoP", exp: claims.exp, iat: claims.iat, sub: claims.sub,
                                         aud: claims.aud, iss: claims.iss, jti: claims.jti, sid: claims.sid, acr: claims.acr, authTime: claims.authTime)
        }
        let now = clock.now()
        guard let key = try? await refreshLookupKey(token, in: context, now: now),
              let (record, session) = try await store.refreshToken(tenantID: tenantID, lookupKey: key),
              record.clientID == caller.id, record.state == .active, session.isLive(at: now) else { return .inactive }
        let user = try await directory.userForClaims(tenantID: tenantID, id: session.userID)
        return IntrospectionResponse(active: true, scope: Scope.join(session.scopes), clientID: record.clientID, username: user?.username,
                                     tokenType: "refresh_token", exp: min(session.idleExpiresAt, session.absoluteExpiresAt).secondsSince1970,
                                     iat: record.createdAt.secondsSince1970, sub: session.userID, aud: nil, iss: context.issuer, jti: nil,
                                     sid: session.id, acr: session.acr.rawValue, authTime: session.authTime.secondsSince1970)
    }

    /// RFC 7009. A refresh token ends its whole session (family and access tokens); an access token is put
    /// on the revocation list until it expires. Unknown or invalid tokens are not an error; another client's
    /// token is refused with `unauthorized_client`.
    public func revoke(tenantID: String, token: String?, client credentials: ClientCredentials?, origin: RequestOrigin) async throws {
        let context = try await activeTenant(tenantID)
        let caller = try await authenticateClient(credentials, in: context, origin: origin)
        guard let token, !token.isEmpty else { throw OAuthError.invalidRequest(description: "missing parameter token") }
        let now = clock.now()
        if let claims = await context.keyring.verify(token, typ: "at+jwt", as: AccessTokenClaims.self), claims.iss == context.issuer {
            guard claims.clientID == caller.id else { throw OAuthError.unauthorizedClient(reason: "token_of_another_client") }
            guard now.secondsSince1970 < claims.exp else { return }
            try await revocations.revoke(Revocation(tenantID: tenantID, kind: .token, value: claims.jti,
                                                    expiresAt: Date(timeIntervalSince1970: TimeInterval(claims.exp))))
            audit.record(AuditEvent(tenantID: tenantID, kind: .tokenRevoked, time: now, userID: claims.sid == nil ? nil : claims.sub,
                                    clientID: caller.id, sessionID: claims.sid, tokenHashPrefix: TokenDigest.prefix(token),
                                    ip: origin.ip, userAgent: origin.userAgent, detail: "access_token"))
            return
        }
        guard let key = try? await refreshLookupKey(token, in: context, now: now),
              let (record, session) = try await store.refreshToken(tenantID: tenantID, lookupKey: key) else { return }
        guard record.clientID == caller.id else { throw OAuthError.unauthorizedClient(reason: "token_of_another_client") }
        try await revokeSessions(tenantID: tenantID, ids: [session.id], reason: "refresh_token_revoked", origin: origin)
        audit.record(AuditEvent(tenantID: tenantID, kind: .tokenRevoked, time: now, userID: session.userID, clientID: caller.id,
                                sessionID: session.id, tokenHashPrefix: TokenDigest.prefix(token), ip: origin.ip,
                                userAgent: origin.userAgent, detail: "refresh_token"))
    }

    /// Ends the session (family) `refreshToken` belongs to. The token must be the calling client's; an
    /// unknown or already ended one is `invalid_grant`.
    public func logout(tenantID: String, refreshToken: String?, client credentials: ClientCredentials?, origin: RequestOrigin) async throws {
        let context = try await activeTenant(tenantID)
        let caller = try await authenticateClient(credentials, in: context, origin: origin)
        guard let refreshToken, !refreshToken.isEmpty else { throw OAuthError.invalidRequest(description: "missing parameter refresh_token") }
        let key = try await refreshLookupKey(refreshToken, in: context, now: clock.now())
        guard let (record, session) = try await store.refreshToken(tenantID: tenantID, lookupKey: key), record.clientID == caller.id,
              session.status == .active else { throw OAuthError.invalidGrant(reason: "unknown_or_ended_session") }
        try await revokeSessions(tenantID: tenantID, ids: [session.id], reason: "logout", origin: origin)
    }

    /// OIDC UserInfo for a bearer access token carrying `openid`.
    public func userInfo(tenantID: String, accessToken: String?) async throws -> UserInfo {
        guard let context = try await directory.context(for: tenantID), context.tenant.status == .active else {
            throw OAuthError.invalidToken(reason: "unknown_or_suspended_tenant")
        }
        guard let accessToken, let claims = try await verifyAccessToken(accessToken, in: context) else {
            throw OAuthError.invalidToken(reason: "invalid_access_token")
        }
        guard claims.sid != nil, Scope.parse(claims.scope)?.contains("openid") == true else { throw OAuthError.insufficientScope(scope: "openid") }
        guard let user = try await store.user(tenantID: tenantID, id: claims.sub) else { throw OAuthError.invalidToken(reason: "user_gone") }
        return UserInfo(sub: user.id, preferredUsername: user.username, email: user.email)
    }
}
