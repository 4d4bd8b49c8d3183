import Foundation

/// One grant type of the token endpoint (fosite's handler, node-oidc-provider's grant file). The endpoint
/// has already found the tenant, counted the request and authenticated a client allowed this grant.
///
/// A handler works in two phases: it first turns the request into a typed, fully validated value and reads
/// what it needs; only then does it mint and persist, in one store call. A request it refuses changes nothing.
public protocol GrantHandler: Sendable {
    /// The `grant_type` this handler answers.
    var grantType: GrantType { get }
    /// The token response for `request` from `client`.
    func respond(to request: TokenRequest, client: Client, in context: TenantContext) async throws -> TokenResponse
}
