import Foundation

/// A validated authorization request (RFC 6749 §4.1.1, RFC 7636, OIDC Core §3.1.2.1, RFC 9449 §10):
/// `response_type=code` with PKCE S256, for a known client and one of its registered redirect URIs.
public struct AuthorizationRequest: Sendable, Codable, Equatable {
    public enum Prompt: String, Sendable, Codable, CaseIterable { case none, login, consent }

    public var clientID: String
    public var redirectURI: String
    public var scopes: [String]
    public var state: String?
    public var nonce: String?
    public var codeChallenge: String
    public var prompts: Set<Prompt>
    /// OIDC `max_age`: the authentication may be at most this old (seconds).
    public var maxAge: Int?
    /// The level `acr_values` asks for (the strongest one named that identityd knows), if any.
    public var acr: AuthenticationLevel?
    public var loginHint: String?
    /// RFC 9449 §10: the DPoP key the code is bound to.
    public var dpopJKT: String?

    public init(clientID: String, redirectURI: String, scopes: [String], state: String? = nil, nonce: String? = nil, codeChallenge: String,
                prompts: Set<Prompt> = [], maxAge: Int? = nil, acr: AuthenticationLevel? = nil, loginHint: String? = nil, dpopJKT: String? = nil) {
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.scopes = scopes
        self.state = state
        self.nonce = nonce
        self.codeChallenge = codeChallenge
        self.prompts = prompts
        self.maxAge = maxAge
        self.acr = acr
        self.loginHint = loginHint
        self.dpopJKT = dpopJKT
    }

    /// Why a request is refused. Before the client and its redirect URI are known to be good, the answer is
    /// a page (never a redirect to an unverified place); after, a redirect to the client with `error`.
    public enum Refusal: Error, Sendable, Equatable {
        /// Shown as an HTML page with `status`; `message` is safe to show.
        case page(status: Int, message: String)
        /// Sent back to `redirectURI` with `error`, `error_description`, `state` and `iss`.
        case redirect(redirectURI: String, state: String?, error: String, description: String)
    }

    /// The longest value identityd takes for `state`, `nonce` and `login_hint`.
    static let maxValue = 1024

    /// Validates `parameters` for `client` (nil: no such client). The order is RFC 6749 §4.1.2.1's: the client
    /// and the redirect URI first (page errors), then everything else (redirect errors).
    public static func validate(_ parameters: [String: String], client: Client?, policy: TenantPolicy) throws(Refusal) -> AuthorizationRequest {
        guard let clientID = parameters["client_id"], !clientID.isEmpty else {
            throw .page(status: 400, message: "The request names no client (client_id is missing).")
        }
        guard let client else { throw .page(status: 400, message: "The application that sent you here is not known.") }
        let redirectURI: String
        if let given = parameters["redirect_uri"] {
            guard client.redirectURIs.contains(given) else {
                throw .page(status: 400, message: "The application asked to return to an address it has not registered.")
            }
            redirectURI = given
        } else {
            guard client.redirectURIs.count == 1 else {
                throw .page(status: 400, message: "The request does not say where to return (redirect_uri is missing).")
            }
            redirectURI = client.redirectURIs[0]
        }
        let state = parameters["state"]
        func refuse(_ error: String, _ description: String) -> Refusal {
            .redirect(redirectURI: redirectURI, state: state, error: error, description: description)
        }
        if let state, state.utf8.count > maxValue { throw refuse("invalid_request", "state is too long") }
        if parameters["request"] != nil { throw refuse("request_not_supported", "request objects are not supported; use PAR") }
        guard client.grantTypes.contains(.authorizationCode) else {
            throw refuse("unauthorized_client", "the client may not use the authorization code flow")
        }
        guard let responseType = parameters["response_type"], !responseType.isEmpty else { throw refuse("invalid_request", "missing parameter response_type") }
        guard responseType == "code" else { throw refuse("unsupported_response_type", "only response_type=code is supported") }
        guard let challenge = parameters["code_challenge"], !challenge.isEmpty else {
            throw refuse("invalid_request", "PKCE is required: missing parameter code_challenge")
        }
        guard parameters["code_challenge_method"] == "S256" else { throw refuse("invalid_request", "code_challenge_method must be S256") }
        guard challenge.utf8.count == 43, Base64URL.decode(challenge)?.count == 32 else {
            throw refuse("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier")
        }
        var scopes = client.scopes
        if let text = parameters["scope"] {
            guard let parsed = Scope.parse(text) else { throw refuse("invalid_scope", "scope is malformed") }
            guard parsed.allSatisfy(client.scopes.contains) else { throw refuse("invalid_scope", "scope not allowed for this client") }
            scopes = parsed
        }
        var prompts = Set<Prompt>()
        for word in (parameters["prompt"] ?? "").split(separator: " ") {
            guard let prompt = Prompt(rawValue: String(word)) else { throw refuse("invalid_request", "prompt must be none, login or consent") }
            prompts.insert(prompt)
        }
        if prompts.contains(.none), prompts.count > 1 { throw refuse("invalid_request", "prompt=none cannot be combined") }
        var maxAge: Int?
        if let text = parameters["max_age"] {
            guard let value = Int(text), value >= 0 else { throw refuse("invalid_request", "max_age must be a whole number of seconds") }
            maxAge = value
        }
        // OIDC: acr_values are voluntary; the strongest level named that identityd knows is asked for.
        let acr = (parameters["acr_values"] ?? "").split(separator: " ").compactMap { AuthenticationLevel(rawValue: String($0)) }.max()
        let nonce = parameters["nonce"], loginHint = parameters["login_hint"]
        if let nonce, nonce.utf8.count > maxValue { throw refuse("invalid_request", "nonce is too long") }
        if let loginHint, loginHint.utf8.count > UserAuthenticator.maxUsername { throw refuse("invalid_request", "login_hint is too long") }
        let dpopJKT = parameters["dpop_jkt"]
        if let dpopJKT, dpopJKT.utf8.count != 43 || Base64URL.decode(dpopJKT)?.count != 32 {
            throw refuse("invalid_request", "dpop_jkt must be a base64url SHA-256 JWK thumbprint")
        }
        return AuthorizationRequest(clientID: clientID, redirectURI: redirectURI, scopes: scopes, state: state, nonce: nonce,
                                    codeChallenge: challenge, prompts: prompts, maxAge: maxAge, acr: acr, loginHint: loginHint, dpopJKT: dpopJKT)
    }

    /// What the authentication must be for this request under `policy`: at least `acr` (the request's
    /// `acr_values`, and every requested sensitive scope's rule), at most `maxAge` seconds old (the request's
    /// `max_age` and the rules' `max_age`, the smallest).
    public func requirement(_ policy: TenantPolicy) -> (acr: AuthenticationLevel, maxAge: Int?) {
        var level = acr ?? .pwd, age = maxAge
        for scope in scopes {
            guard let rule = policy.stepUpRule(for: scope) else { continue }
            level = max(level, rule.acr)
            age = min(age ?? rule.maxAge, rule.maxAge)
        }
        return (level, age)
    }
}

extension AuthorizationRequest.Refusal {
    /// The redirect URI with the error in its query (RFC 6749 §4.1.2.1, RFC 9207's `iss`).
    public func location(issuer: String) -> String? {
        guard case .redirect(let uri, let state, let error, let description) = self else { return nil }
        var items = [("error", error), ("error_description", description)]
        if let state { items.append(("state", state)) }
        items.append(("iss", issuer))
        return AuthorizationRequest.append(items, to: uri)
    }
}

extension AuthorizationRequest {
    /// `uri` with `items` added to its query, each form-encoded.
    public static func append(_ items: [(String, String)], to uri: String) -> String {
        let query = items.map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&")
        let (base, fragment) = uri.firstIndex(of: "#").map { (String(uri[..<$0]), String(uri[$0...])) } ?? (uri, "")
        return base + (base.contains("?") ? "&" : "?") + query + fragment
    }

    /// `application/x-www-form-urlencoded` of one value: everything but RFC 3986's unreserved ASCII escaped.
    public static func formEncode(_ value: String) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in value.utf8 {
            if unreserved.contains(byte) {
                bytes.append(byte)
            } else {
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
