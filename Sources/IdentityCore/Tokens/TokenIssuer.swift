import Crypto
import Foundation

/// Mints a tenant's tokens: RFC 9068 access tokens, refresh tokens in the tenant's format (and the record
/// the store keeps of them), ID tokens. Signing is the keyring's; ids and opaque tokens come from `random`.
public struct TokenIssuer: Sendable {
    let random: any RandomSource

    public init(random: any RandomSource) { self.random = random }

    /// A signed access token for `subject`, with the session's claims when there is one, bound (`cnf.jkt`) to
    /// `jkt`, or else to the session's DPoP key.
    public func accessToken(in context: TenantContext, subject: String, clientID: String, scopes: [String], audience: String,
                            session: Session?, now: Date, jkt: String? = nil) async throws -> (token: String, claims: AccessTokenClaims) {
        let claims = AccessTokenClaims(
            iss: context.issuer, sub: subject, aud: audience,
            exp: now.secondsSince1970 + Int64(context.policy.accessTokenTTL), iat: now.secondsSince1970,
            jti: random.token(bytes: 16), clientID: clientID, scope: Scope.join(scopes),
            sid: session?.id, authTime: session?.authTime.secondsSince1970, acr: session?.acr.rawValue, amr: session?.amr,
            cnf: (jkt ?? session?.dpopJKT).map(AccessTokenClaims.Confirmation.init(jkt:)))
        return (try await context.keyring.sign(claims, typ: "at+jwt"), claims)
    }

    /// A new refresh token of `session`'s family in the tenant's format, and the record the store keeps of it.
    public func refreshToken(in context: TenantContext, session: Session, parentKey: String?, now: Date) async throws
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
    public func refreshLookupKey(_ token: String, in context: TenantContext, now: Date) async throws -> String {
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

    /// An ID token for `user`'s session; with `nonce` (the authorization request's) and, given the access
    /// token issued with it, `at_hash` (OIDC Core §3.1.3.6: the left half of its hash, base64url).
    public func idToken(in context: TenantContext, user: User, session: Session, now: Date, nonce: String? = nil,
                        accessToken: String? = nil) async throws -> String {
        let claims = IDTokenClaims(iss: context.issuer, sub: user.id, aud: session.clientID,
                                   exp: now.secondsSince1970 + Int64(context.policy.accessTokenTTL), iat: now.secondsSince1970,
                                   authTime: session.authTime.secondsSince1970, acr: session.acr.rawValue, amr: session.amr,
                                   sid: session.id, azp: session.clientID, preferredUsername: user.username, email: user.email,
                                   nonce: nonce, atHash: accessToken.map { Self.leftHalfHash($0, algorithm: context.keyring.activeAlgorithm) })
        return try await context.keyring.sign(claims, typ: "JWT")
    }

    /// The left half of the token's hash under the hash of the signing algorithm (SHA-256 for ES256 and
    /// RS256, SHA-512 for EdDSA), base64url: OIDC's `at_hash`.
    static func leftHalfHash(_ token: String, algorithm: SigningAlgorithm) -> String {
        let digest: [UInt8] = algorithm == .edDSA ? Array(SHA512.hash(data: Array(token.utf8))) : Array(SHA256.hash(data: Array(token.utf8)))
        return Base64URL.encode(digest.prefix(digest.count / 2))
    }
}
