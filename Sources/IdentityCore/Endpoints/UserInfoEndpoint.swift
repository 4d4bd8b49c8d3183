import Foundation

/// `GET|POST /userinfo` (OIDC Core §5.3) for an access token carrying `openid`. A token bound to a DPoP key
/// comes as `Authorization: DPoP <token>` with a proof of that key naming the token (`ath`, RFC 9449 §7); a
/// bound token sent as `Bearer`, or an unbound one as `DPoP`, is refused.
public struct UserInfoEndpoint: Sendable {
    let directory: TenantDirectory
    let verifier: AccessTokenVerifier
    /// Read directly, not from the claims cache: a deleted user answers at once.
    let users: any UserStore
    let dpop: DPoPGate

    /// How the access token was presented.
    public enum Presentation: Sendable, Equatable {
        case bearer(String)
        case dpop(String)

        var token: String {
            switch self {
            case .bearer(let token), .dpop(let token): token
            }
        }
    }

    public func userInfo(tenantID: String, presented: Presentation?, dpop evidence: DPoPGate.Evidence?, origin: RequestOrigin = .init())
        async throws -> UserInfo
    {
        guard let context = try await directory.context(for: tenantID), context.tenant.status == .active else {
            throw OAuthError.invalidToken(reason: "unknown_or_suspended_tenant")
        }
        guard let presented, let claims = try await verifier.verify(presented.token, in: context) else {
            throw OAuthError.invalidToken(reason: "invalid_access_token")
        }
        switch (claims.cnf, presented) {
        case (let cnf?, .dpop(let token)):
            let proof = try await dpop.check(evidence, in: context, client: nil, accessToken: token, required: true, origin: origin)
            guard proof?.jkt == cnf.jkt else { throw OAuthError.invalidDPoPProof(reason: "dpop_key_not_bound") }
        case (_?, .bearer):
            throw OAuthError.invalidToken(reason: "dpop_bound_token_sent_as_bearer")
        case (nil, .dpop):
            throw OAuthError.invalidToken(reason: "bearer_token_sent_as_dpop")
        case (nil, .bearer):
            break
        }
        guard claims.sid != nil, Scope.parse(claims.scope)?.contains("openid") == true else { throw OAuthError.insufficientScope(scope: "openid") }
        guard let user = try await users.user(tenantID: tenantID, id: claims.sub) else { throw OAuthError.invalidToken(reason: "user_gone") }
        return UserInfo(sub: user.id, preferredUsername: user.username, email: user.email)
    }
}
