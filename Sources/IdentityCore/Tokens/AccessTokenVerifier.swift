import Foundation

/// Checks a presented access token: signed by a published key of the tenant with the header's algorithm,
/// `typ: at+jwt`, this tenant's issuer, unexpired, and neither it (jti) nor its session (sid) revoked. A
/// `client_credentials` token (no session) also needs its client as it is now: still there, its secret not
/// rotated since the token was issued, and every scope of the token still the client's.
public struct AccessTokenVerifier: Sendable {
    let revocations: RevocationList
    let directory: TenantDirectory
    let clock: any IdentityClock

    public init(revocations: RevocationList, directory: TenantDirectory, clock: any IdentityClock) {
        self.revocations = revocations
        self.directory = directory
        self.clock = clock
    }

    /// The claims of `token` if it passes every check; nil otherwise.
    public func verify(_ token: String, in context: TenantContext) async throws -> AccessTokenClaims? {
        guard let claims = await context.keyring.verify(token, typ: "at+jwt", as: AccessTokenClaims.self),
              claims.iss == context.issuer else { return nil }
        let now = clock.now()
        guard now.secondsSince1970 < claims.exp else { return nil }
        if claims.sid == nil {
            guard let client = try await directory.client(tenantID: context.tenant.id, id: claims.clientID),
                  claims.iat >= (client.secretRotatedAt?.secondsSince1970 ?? .min),
                  Scope.parse(claims.scope)?.allSatisfy(client.scopes.contains) == true else { return nil }
        }
        let revoked = try await revocations.isRevoked(tenantID: context.tenant.id, sid: claims.sid, jti: claims.jti, now: now)
        return revoked ? nil : claims
    }
}
