import Foundation

/// `grant_type=client_credentials`: a confidential client acting for itself. Never a sensitive scope (there
/// is no user to step up).
public struct ClientCredentialsGrant: GrantHandler {
    public var grantType: GrantType { .clientCredentials }
    let tokens: TokenIssuer
    let audit: AuditLog
    let clock: any IdentityClock

    public func respond(to request: TokenRequest, client: Client, in context: TenantContext) async throws -> TokenResponse {
        guard client.kind == .confidential else { throw OAuthError.unauthorizedClient(reason: "public_client") }
        let requested = try request.scopes(), audience = try request.audience(issuer: context.issuer)
        let policy = context.policy
        let scopes: [String]
        if let requested {
            guard requested.allSatisfy(client.scopes.contains) else { throw OAuthError.invalidScope(description: "scope not allowed for this client") }
            guard requested.allSatisfy({ policy.stepUpRule(for: $0) == nil }) else {
                throw OAuthError.invalidScope(description: "a sensitive scope needs a user authentication")
            }
            scopes = requested
        } else {
            scopes = client.scopes.filter { policy.stepUpRule(for: $0) == nil }
        }
        let now = clock.now()
        let access = try await tokens.accessToken(in: context, subject: client.id, clientID: client.id, scopes: scopes, audience: audience,
                                                  session: nil, now: now, jkt: request.proof?.jkt)
        audit.record(.tokenIssued, tenantID: context.tenant.id, at: now, origin: request.origin, client: client.id,
                     token: TokenDigest.prefix(access.token), detail: "client_credentials")
        return TokenResponse(accessToken: access.token, tokenType: TokenResponse.tokenType(access.claims), expiresIn: policy.accessTokenTTL,
                             refreshToken: nil, scope: Scope.join(scopes), idToken: nil)
    }
}
