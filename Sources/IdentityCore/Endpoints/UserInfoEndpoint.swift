import Foundation

/// `GET|POST /userinfo` (OIDC Core §5.3) for a bearer access token carrying `openid`.
public struct UserInfoEndpoint: Sendable {
    let directory: TenantDirectory
    let verifier: AccessTokenVerifier
    /// Read directly, not from the claims cache: a deleted user answers at once.
    let users: any UserStore

    public func userInfo(tenantID: String, accessToken: String?) async throws -> UserInfo {
        guard let context = try await directory.context(for: tenantID), context.tenant.status == .active else {
            throw OAuthError.invalidToken(reason: "unknown_or_suspended_tenant")
        }
        guard let accessToken, let claims = try await verifier.verify(accessToken, in: context) else {
            throw OAuthError.invalidToken(reason: "invalid_access_token")
        }
        guard claims.sid != nil, Scope.parse(claims.scope)?.contains("openid") == true else { throw OAuthError.insufficientScope(scope: "openid") }
        guard let user = try await users.user(tenantID: tenantID, id: claims.sub) else { throw OAuthError.invalidToken(reason: "user_gone") }
        return UserInfo(sub: user.id, preferredUsername: user.username, email: user.email)
    }
}
