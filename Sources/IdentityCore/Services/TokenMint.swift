import Foundation

/// A successful token response (RFC 6749 §5.1).
public struct TokenResponse: Sendable, Equatable, Encodable {
    public var accessToken: String
    public var tokenType: String
    public var expiresIn: Int
    public var refreshToken: String?
    public var scope: String
    public var idToken: String?

    public init(accessToken: String, tokenType: String, expiresIn: Int, refreshToken: String?, scope: String, idToken: String?) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.refreshToken = refreshToken
        self.scope = scope
        self.idToken = idToken
    }

    /// The response as compact JSON, written directly (the token endpoint's hot path); the same document as
    /// encoding it with `CodingKeys`, keys sorted.
    public var json: [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("access_token", accessToken)
        writer.field("expires_in", Int64(expiresIn))
        writer.field("id_token", idToken)
        writer.field("refresh_token", refreshToken)
        writer.field("scope", scope)
        writer.field("token_type", tokenType)
        writer.endObject()
        return writer.bytes
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case refreshToken = "refresh_token"
        case scope
        case idToken = "id_token"
    }
}

/// Opaque refresh tokens: `rt_` and 256 random bits. Only the SHA-256 is stored.
enum OpaqueRefreshToken {
    static let prefix = "rt_"
}

extension IdentityRuntime {
    /// A signed access token for `subject`, with the session's claims when there is one.
    func mintAccessToken(in context: TenantContext, subject: String, clientID: String, scopes: [String], audience: String,
                         session: Session?, now: Date) async throws -> (token: String, claims: AccessTokenClaims) {
        let claims = AccessTokenClaims(
            iss: context.issuer, sub: subject, aud: audience,
            exp: now.secondsSince1970 + Int64(context.policy.accessTokenTTL), iat: now.secondsSince1970,
            jti: random.token(bytes: 16), clientID: clientID, scope: Scope.join(scopes),
            sid: session?.id, authTime: session?.authTime.secondsSince1970, acr: session?.acr.rawValue, amr: session?.amr,
            cnf: session?.dpopJKT.map(AccessTokenClaims.Confirmation.init(jkt:)))
        return (try await context.keyring.sign(claims, typ: "at+jwt"), claims)
    }

    /// A new refresh token of `session`'s family in the tenant's format, and the record the store keeps of it.
    func mintRefreshToken(in context: TenantContext, session: Session, parentKey: String?, now: Date) async throws
        -> (token: String, record: RefreshTokenRecord)
    {
        let token: String, lookupKey: String
        switch context.policy.refreshTokenFormat {
        case .opaque:
            token = OpaqueRefreshToken.prefix + random.token(bytes: 32)
            lookupKey = TokenDigest.hex(token)
        case .jwt:
            lookupKey = random.token(bytes: 16)
            let claims = RefreshTokenClaims(iss: context.issuer, jti: lookupKey, sid: session.id,
                                            exp: session.absoluteExpiresAt.secondsSince1970, iat: now.secondsSince1970, clientID: session.clientID)
            token = try await context.keyring.sign(claims, typ: "rt+jwt")
        }
        let record = RefreshTokenRecord(tenantID: context.tenant.id, lookupKey: lookupKey, sessionID: session.id,
                                        clientID: session.clientID, createdAt: now, parentKey: parentKey)
        return (token, record)
    }

    /// The store's lookup key for a presented refresh token. A JWT one must carry a valid signature of this
    /// tenant, this issuer and an unexpired `exp` before the store is asked anything.
    func refreshLookupKey(_ token: String, in context: TenantContext, now: Date) async throws -> String {
        if token.hasPrefix(OpaqueRefreshToken.prefix), token.utf8.count == OpaqueRefreshToken.prefix.utf8.count + 43 {
            return TokenDigest.hex(token)
        }
        guard let claims = await context.keyring.verify(token, typ: "rt+jwt", as: RefreshTokenClaims.self) else {
            throw OAuthError.invalidGrant(reason: "malformed_or_unsigned_token")
        }
        guard claims.iss == context.issuer else { throw OAuthError.invalidGrant(reason: "wrong_issuer") }
        guard now.secondsSince1970 < claims.exp else { throw OAuthError.invalidGrant(reason: "jwt_expired") }
        return claims.jti
    }

    /// An ID token for `user`'s session.
    func mintIDToken(in context: TenantContext, user: User, session: Session, now: Date) async throws -> String {
        let claims = IDTokenClaims(iss: context.issuer, sub: user.id, aud: session.clientID,
                                   exp: now.secondsSince1970 + Int64(context.policy.accessTokenTTL), iat: now.secondsSince1970,
                                   authTime: session.authTime.secondsSince1970, acr: session.acr.rawValue, amr: session.amr,
                                   sid: session.id, azp: session.clientID, preferredUsername: user.username, email: user.email)
        return try await context.keyring.sign(claims, typ: "JWT")
    }

    /// The audience of an access token: the RFC 8707 `resource` asked for, or the tenant's default (its issuer).
    func audience(_ resource: String?, in context: TenantContext) throws -> String {
        guard let resource else { return context.issuer }
        guard let url = URL(string: resource), url.scheme != nil, url.host != nil, url.fragment == nil, resource.utf8.count <= 2048 else {
            throw OAuthError.invalidRequest(description: "resource must be an absolute URI without a fragment")
        }
        return resource
    }
}
