import Foundation
import IdentityCore
import Testing

/// The authorize request's validation (DESIGN.md "Browser sign-in"): which requests are a page, which a
/// redirect with which `error`, and what a good one yields.
@Suite struct AuthorizationRequestTests {
    static let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    static let client = Client(tenantID: "acme", id: "spa", name: "SPA", kind: .public, secretHash: nil,
                               grantTypes: [.authorizationCode, .refreshToken],
                               redirectURIs: ["https://app.example/cb", "com.example.app:/cb"], scopes: ["openid", "profile", "api"],
                               createdAt: .init(timeIntervalSince1970: 0), updatedAt: .init(timeIntervalSince1970: 0))
    static let good: [String: String] = [
        "response_type": "code", "client_id": "spa", "redirect_uri": "https://app.example/cb", "scope": "openid api", "state": "s1",
        "code_challenge": challenge, "code_challenge_method": "S256",
    ]

    enum Expected: Sendable, CustomStringConvertible {
        case page
        case redirect(String)
        var description: String {
            switch self {
            case .page: "page"
            case .redirect(let error): error
            }
        }
    }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var change: [String: String?]
        var expected: Expected
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no client_id", change: ["client_id": nil], expected: .page),
        Case(name: "an unregistered redirect_uri", change: ["redirect_uri": "https://evil.example/cb"], expected: .page),
        Case(name: "a redirect_uri differing in case", change: ["redirect_uri": "https://APP.example/cb"], expected: .page),
        Case(name: "a redirect_uri with an extra query", change: ["redirect_uri": "https://app.example/cb?x=1"], expected: .page),
        Case(name: "no redirect_uri with two registered", change: ["redirect_uri": nil], expected: .page),
        Case(name: "no response_type", change: ["response_type": nil], expected: .redirect("invalid_request")),
        Case(name: "response_type=token", change: ["response_type": "token"], expected: .redirect("unsupported_response_type")),
        Case(name: "response_type=code id_token", change: ["response_type": "code id_token"], expected: .redirect("unsupported_response_type")),
        Case(name: "no code_challenge", change: ["code_challenge": nil], expected: .redirect("invalid_request")),
        Case(name: "code_challenge_method=plain", change: ["code_challenge_method": "plain"], expected: .redirect("invalid_request")),
        Case(name: "no code_challenge_method", change: ["code_challenge_method": nil], expected: .redirect("invalid_request")),
        Case(name: "a short code_challenge", change: ["code_challenge": "abc"], expected: .redirect("invalid_request")),
        Case(name: "a scope the client may not ask", change: ["scope": "openid admin"], expected: .redirect("invalid_scope")),
        Case(name: "a malformed scope", change: ["scope": "openid  \"x"], expected: .redirect("invalid_scope")),
        Case(name: "prompt=none login", change: ["prompt": "none login"], expected: .redirect("invalid_request")),
        Case(name: "an unknown prompt", change: ["prompt": "select_account"], expected: .redirect("invalid_request")),
        Case(name: "a negative max_age", change: ["max_age": "-1"], expected: .redirect("invalid_request")),
        Case(name: "a non-numeric max_age", change: ["max_age": "soon"], expected: .redirect("invalid_request")),
        Case(name: "a request object", change: ["request": "eyJ..."], expected: .redirect("request_not_supported")),
        Case(name: "a state over 1 KiB", change: ["state": String(repeating: "s", count: 1025)], expected: .redirect("invalid_request")),
        Case(name: "a nonce over 1 KiB", change: ["nonce": String(repeating: "n", count: 1025)], expected: .redirect("invalid_request")),
        Case(name: "a malformed dpop_jkt", change: ["dpop_jkt": "not-a-thumbprint"], expected: .redirect("invalid_request")),
    ]

    static func parameters(_ change: [String: String?]) -> [String: String] {
        var parameters = good
        for (name, value) in change { parameters[name] = value }
        return parameters
    }

    @Test(arguments: cases) func aBadRequestIsRefusedTheRightWay(_ test: Case) {
        #expect(throws: AuthorizationRequest.Refusal.self) {
            try AuthorizationRequest.validate(Self.parameters(test.change), client: Self.client, policy: TenantPolicy())
        }
        do {
            _ = try AuthorizationRequest.validate(Self.parameters(test.change), client: Self.client, policy: TenantPolicy())
        } catch {
            switch (error, test.expected) {
            case (.page(let status, _), .page):
                #expect(status == 400)
            case (.redirect(let uri, let state, let code, _), .redirect(let expected)):
                #expect(code == expected)
                #expect(uri == "https://app.example/cb")
                #expect(state == Self.parameters(test.change)["state"])
            default:
                Issue.record("\(test.name): \(error), expected \(test.expected)")
            }
        }
    }

    @Test func anUnknownClientIsAPageNeverARedirect() {
        #expect(throws: AuthorizationRequest.Refusal.page(status: 400, message: "The application that sent you here is not known.")) {
            try AuthorizationRequest.validate(Self.good, client: nil, policy: TenantPolicy())
        }
    }

    @Test func aClientWithoutTheCodeGrantIsUnauthorized() {
        var client = Self.client
        client.grantTypes = [.refreshToken]
        #expect(throws: AuthorizationRequest.Refusal.self) { try AuthorizationRequest.validate(Self.good, client: client, policy: TenantPolicy()) }
        do {
            _ = try AuthorizationRequest.validate(Self.good, client: client, policy: TenantPolicy())
        } catch {
            guard case .redirect(_, _, "unauthorized_client", _) = error else { Issue.record("\(error)"); return }
        }
    }

    @Test func aGoodRequestKeepsEverythingTheCodeIsBoundTo() throws {
        var parameters = Self.good
        parameters["nonce"] = "n-1"
        parameters["prompt"] = "login consent"
        parameters["max_age"] = "300"
        parameters["acr_values"] = "urn:unknown mfa pwd"
        parameters["login_hint"] = "alice"
        parameters["dpop_jkt"] = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        let request = try AuthorizationRequest.validate(parameters, client: Self.client, policy: TenantPolicy())
        #expect(request.clientID == "spa" && request.redirectURI == "https://app.example/cb" && request.scopes == ["openid", "api"])
        #expect(request.state == "s1" && request.nonce == "n-1" && request.codeChallenge == Self.challenge)
        #expect(request.prompts == [.login, .consent] && request.maxAge == 300 && request.acr == .mfa && request.loginHint == "alice")
        #expect(request.dpopJKT == "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")
    }

    @Test func withOneRegisteredRedirectURIItMayBeLeftOut() throws {
        var client = Self.client
        client.redirectURIs = ["https://app.example/only"]
        var parameters = Self.good
        parameters["redirect_uri"] = nil
        parameters["scope"] = nil
        let request = try AuthorizationRequest.validate(parameters, client: client, policy: TenantPolicy())
        #expect(request.redirectURI == "https://app.example/only")
        #expect(request.scopes == client.scopes, "no scope asks for every scope the client may have")
    }

    @Test func aStepUpScopeRaisesTheRequirement() throws {
        var policy = TenantPolicy()
        policy.stepUp = [StepUpRule(scope: "api", acr: .mfa, maxAge: 120)]
        var parameters = Self.good
        parameters["max_age"] = "600"
        let request = try AuthorizationRequest.validate(parameters, client: Self.client, policy: policy)
        #expect(request.requirement(policy).acr == .mfa && request.requirement(policy).maxAge == 120)
        parameters["scope"] = "openid"
        let plain = try AuthorizationRequest.validate(parameters, client: Self.client, policy: policy)
        #expect(plain.requirement(policy).acr == .pwd && plain.requirement(policy).maxAge == 600)
    }

    @Test func anErrorRedirectCarriesStateAndIssuerFormEncoded() {
        let refusal = AuthorizationRequest.Refusal.redirect(redirectURI: "https://app.example/cb?tab=1", state: "a b&c", error: "access_denied",
                                                            description: "the user said no")
        #expect(refusal.location(issuer: "https://id.example/t/acme")
            == "https://app.example/cb?tab=1&error=access_denied&error_description=the%20user%20said%20no&state=a%20b%26c&iss=https%3A%2F%2Fid.example%2Ft%2Facme")
    }
}
