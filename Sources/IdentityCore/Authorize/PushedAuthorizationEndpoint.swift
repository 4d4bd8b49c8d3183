import Foundation

/// `POST /oauth/par` (RFC 9126): an authenticated client pushes its authorization request and gets a
/// `request_uri` for the authorize endpoint. The request is validated here (errors as RFC 6749 JSON) and
/// sealed into the URI, valid 60 seconds, so that any node takes it back.
public struct PushedAuthorizationEndpoint: Sendable {
    let gate: ClientGate
    let dpop: DPoPGate
    let seal: InteractionSeal
    let clock: any IdentityClock

    public static let lifetime: TimeInterval = 60

    /// With a DPoP proof (RFC 9449 §10.1), the request's code is bound to the proof's key, as `dpop_jkt`
    /// would bind it (both given must agree).
    public func push(tenantID: String, parameters: [String: String], client credentials: ClientCredentials?,
                     dpop evidence: DPoPGate.Evidence? = nil, origin: RequestOrigin) async throws -> (requestURI: String, expiresIn: Int)
    {
        let (context, client) = try await gate.admit(tenantID: tenantID, credentials: credentials, origin: origin)
        var parameters = parameters
        if let proof = try await dpop.check(evidence, in: context, client: client, required: false, origin: origin) {
            if let named = parameters["dpop_jkt"], named != proof.jkt { throw OAuthError.invalidDPoPProof(reason: "dpop_jkt_differs_from_proof") }
            parameters["dpop_jkt"] = proof.jkt
        }
        parameters["client_secret"] = nil
        guard parameters["request_uri"] == nil else { throw OAuthError.invalidRequest(description: "request_uri cannot be pushed") }
        if let named = parameters["client_id"], named != client.id {
            throw OAuthError.invalidRequest(description: "client_id differs from the authenticated client")
        }
        parameters["client_id"] = client.id
        do {
            _ = try AuthorizationRequest.validate(parameters, client: client, policy: context.policy)
        } catch .page(_, let message) {
            throw OAuthError.invalidRequest(description: message)
        } catch .redirect(_, _, let error, let description) {
            throw error == "invalid_scope" ? OAuthError.invalidScope(description: description) : OAuthError.invalidRequest(description: description)
        }
        let uri = try seal.requestURI(for: parameters, clientID: client.id, tenantID: tenantID,
                                      expiresAt: clock.now().addingTimeInterval(Self.lifetime))
        return (uri, Int(Self.lifetime))
    }
}
