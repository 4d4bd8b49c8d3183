import Foundation

/// A parsed request to the token endpoint: form parameters (each present at most once), the client's
/// credentials, its DPoP evidence and where it came from.
public struct TokenRequest: Sendable {
    public var parameters: [String: String]
    public var client: ClientCredentials?
    public var origin: RequestOrigin
    /// The `DPoP` headers, the method and the endpoint's URL, as they came.
    public var dpop: DPoPGate.Evidence?
    /// The DPoP proof, once `TokenEndpoint` has checked it; nil without one.
    public internal(set) var proof: DPoPProof?

    public init(parameters: [String: String], client: ClientCredentials?, origin: RequestOrigin, dpop: DPoPGate.Evidence? = nil) {
        self.parameters = parameters
        self.client = client
        self.origin = origin
        self.dpop = dpop
    }

    /// A parameter that must be present and not empty.
    public func required(_ name: String) throws -> String {
        guard let value = parameters[name], !value.isEmpty else {
            throw OAuthError.invalidRequest(description: "missing parameter \(name)")
        }
        return value
    }

    /// The `scope` parameter split into scopes; nil when absent.
    public func scopes() throws -> [String]? {
        guard let text = parameters["scope"] else { return nil }
        guard let scopes = Scope.parse(text) else { throw OAuthError.invalidScope(description: "scope is malformed") }
        return scopes
    }

    /// The access token's audience: RFC 8707 `resource`, or the tenant's issuer.
    public func audience(issuer: String) throws -> String {
        try ResourceIndicator.audience(parameters["resource"], issuer: issuer)
    }
}
