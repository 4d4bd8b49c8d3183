import Foundation

/// `POST /oauth/token` (DESIGN.md "Tokens" and "Rotation, reuse, sliding sessions"): admits the request once
/// — tenant, rate limits, client authentication — and hands it to the handler of its grant type.
public struct TokenEndpoint: Sendable {
    let gate: ClientGate
    let dpop: DPoPGate
    let handlers: [GrantType: any GrantHandler]

    public init(gate: ClientGate, dpop: DPoPGate, handlers: [any GrantHandler]) {
        self.gate = gate
        self.dpop = dpop
        self.handlers = Dictionary(uniqueKeysWithValues: handlers.map { ($0.grantType, $0) })
    }

    /// The grant types a handler answers.
    public var grantTypes: [GrantType] { GrantType.allCases.filter { handlers[$0] != nil } }

    /// Runs the token endpoint of `tenantID`.
    public func respond(tenantID: String, request: TokenRequest) async throws -> TokenResponse {
        let grantType = try request.required("grant_type")
        guard let grant = GrantType(rawValue: grantType), let handler = handlers[grant] else { throw OAuthError.unsupportedGrantType }
        let (context, client) = try await gate.admit(tenantID: tenantID, credentials: request.client, origin: request.origin)
        guard client.grantTypes.contains(grant) else { throw OAuthError.unauthorizedClient(reason: "grant_not_allowed") }
        // The proof is checked (and its jti spent) before the grant: a grant refused later still used it up.
        var request = request
        request.proof = try await dpop.check(request.dpop, in: context, client: client, origin: request.origin)
        var response = try await handler.respond(to: request, client: client, in: context)
        response.dpopNonce = dpop.nonce(for: context)
        return response
    }
}
