import Foundation

/// `grant_type=password` (first-party apps): the user's credentials, and `otp` to step up to `mfa`.
public struct PasswordGrant: GrantHandler {
    public var grantType: GrantType { .password }
    let users: UserAuthenticator
    let sessions: SessionStarter
    let stepUp: StepUpGate

    /// The request, validated.
    struct Parsed {
        var username: String
        var password: String
        var otp: String?
        var scopes: [String]?
        var audience: String

        init(_ request: TokenRequest, issuer: String) throws {
            username = try request.required("username")
            password = try request.required("password")
            otp = request.parameters["otp"]
            scopes = try request.scopes()
            audience = try request.audience(issuer: issuer)
        }
    }

    public func respond(to request: TokenRequest, client: Client, in context: TenantContext) async throws -> TokenResponse {
        let parsed = try Parsed(request, issuer: context.issuer)
        let authenticated = try await users.authenticate(username: parsed.username, password: parsed.password, otp: parsed.otp,
                                                         .init(tenant: context, clientID: client.id, origin: request.origin))
        let outcome = try ScopeGrant.resolve(requested: parsed.scopes, allowed: client.scopes, level: authenticated.level,
                                             authTime: authenticated.authTime, now: authenticated.authTime, policy: context.policy)
        let scopes = try stepUp.scopes(outcome, tenantID: context.tenant.id, origin: request.origin, user: authenticated.user.id, client: client.id)
        var grant = SessionStarter.Grant(authentication: authenticated, client: client, scopes: scopes, audience: parsed.audience,
                                         refresh: client.grantTypes.contains(.refreshToken), origin: request.origin,
                                         detail: "password acr=\(authenticated.level.rawValue)")
        grant.dpopJKT = request.proof?.jkt
        return try await sessions.start(grant, in: context)
    }
}
