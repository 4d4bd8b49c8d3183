import Foundation
import IdentityCore
import IdentityTestSupport
import MemoryStore
import Testing

/// DPoP through the core: binding on every grant, refreshes of a bound session, the policy's requirements,
/// nonces, replays, userinfo and introspection.
@Suite struct DPoPGrantTests {
    let clock = ManualClock()
    let runtime: IdentityRuntime
    let admin: Administration
    var secret = ""
    let key = try! DPoPKeyPair(.es256)
    let tokenURL = "http://id.test/t/acme/oauth/token"

    init() async throws {
        runtime = try .forTests(store: MemoryStore(), clock: clock, tenantCacheTTL: 0)
        admin = Administration(runtime: runtime, operatorKey: "operator")
        _ = try await admin.createTenant(.init(id: "acme", name: "Acme"), by: .operator)
        secret = try await admin.createClient("acme", .init(clientID: "web", name: "Web", type: "confidential",
                                                            grantTypes: ["password", "refresh_token", "client_credentials"],
                                                            scopes: ["openid", "api"]), by: .operator).clientSecretForTests
        _ = try await admin.createClient("acme", .init(clientID: "app", name: "App", type: "public", grantTypes: ["password", "refresh_token"],
                                                       scopes: ["openid", "api"]), by: .operator)
        _ = try await admin.createUser("acme", .init(username: "alice", password: "correct horse"), by: .operator)
    }

    func policy(_ json: String) async throws {
        _ = try await admin.replacePolicy("acme", try JSONValue.parse(Array(json.utf8)), by: .operator)
    }

    func token(_ parameters: [String: String], client: String = "web", proof: String?...) async throws -> TokenResponse {
        let credentials = client == "web" ? ClientCredentials(clientID: "web", secret: secret, method: .basic)
            : ClientCredentials(clientID: client, secret: nil, method: .none)
        let evidence = proof.isEmpty ? nil : DPoPGate.Evidence(proofs: proof.compactMap { $0 }, method: "POST", url: tokenURL)
        return try await runtime.tokenEndpoint.respond(tenantID: "acme", request: TokenRequest(
            parameters: parameters, client: credentials, origin: .init(), dpop: evidence))
    }

    func login(client: String = "web", proof: String? = nil) async throws -> TokenResponse {
        let parameters = ["grant_type": "password", "username": "alice", "password": "correct horse", "scope": "openid api"]
        return proof.map { _ in () } == nil ? try await token(parameters, client: client) : try await token(parameters, client: client, proof: proof)
    }

    func refresh(_ token: String?, client: String = "web", proof: String? = nil) async throws -> TokenResponse {
        let parameters = ["grant_type": "refresh_token", "refresh_token": token ?? ""]
        return proof == nil ? try await self.token(parameters, client: client) : try await self.token(parameters, client: client, proof: proof)
    }

    func proof(_ key: DPoPKeyPair? = nil, url: String? = nil, nonce: String? = nil) -> String {
        (key ?? self.key).proof(url ?? tokenURL, at: clock.now(), nonce: nonce)
    }

    func claims(_ jwt: String) throws -> [String: Any] {
        let payload = try #require(Base64URL.decode(jwt.split(separator: ".")[1]))
        return try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
    }

    func introspect(_ token: String) async throws -> IntrospectionResponse {
        try await runtime.introspection.introspect(tenantID: "acme", token: token, client: ClientCredentials(clientID: "web", secret: secret, method: .post),
                                                   origin: .init())
    }

    @Test func aLoginWithAProofBindsTheSessionAndItsTokens() async throws {
        let login = try await login(proof: proof())
        #expect(login.tokenType == "DPoP")
        #expect((try claims(login.accessToken)["cnf"] as? [String: String]) == ["jkt": key.thumbprint])
        let answer = try await introspect(login.accessToken)
        #expect(answer.tokenType == "DPoP" && answer.cnf?.jkt == key.thumbprint)
        #expect(try await introspect(login.refreshToken ?? "").cnf?.jkt == key.thumbprint, "the refresh token's session is bound")
        let plain = try await self.login()
        #expect(try plain.tokenType == "Bearer" && claims(plain.accessToken)["cnf"] == nil)
    }

    @Test func aBoundSessionRefreshesOnlyWithAProofOfItsKeyAndARefusalRotatesNothing() async throws {
        let login = try await login(proof: proof())
        let other = try DPoPKeyPair(.es256)
        await #expect(throws: OAuthError.invalidDPoPProof(reason: "dpop_proof_missing")) { try await refresh(login.refreshToken) }
        await #expect(throws: OAuthError.invalidDPoPProof(reason: "dpop_key_not_bound")) { try await refresh(login.refreshToken, proof: proof(other)) }
        let replayed = proof()
        let refreshed = try await refresh(login.refreshToken, proof: replayed)
        #expect(try refreshed.tokenType == "DPoP" && claims(refreshed.accessToken)["cnf"] as? [String: String] == ["jkt": key.thumbprint])
        #expect(refreshed.refreshToken != login.refreshToken, "the refused attempts did not rotate it: this one did")
        await #expect(throws: OAuthError.invalidDPoPProof(reason: "dpop_jti_replayed")) { try await refresh(refreshed.refreshToken, proof: replayed) }
        // And the refused attempts left the chain whole: the successor still refreshes with a fresh proof.
        #expect(try await refresh(refreshed.refreshToken, proof: proof()).refreshToken != nil)
    }

    @Test func aStolenBoundRotatedTokenWithoutTheKeyCannotEvenTripReuse() async throws {
        try await policy(#"{"refresh_reuse_grace": 0}"#)
        let login = try await login(proof: proof())
        let next = try await refresh(login.refreshToken, proof: proof())
        await #expect(throws: OAuthError.invalidDPoPProof(reason: "dpop_proof_missing")) { try await refresh(login.refreshToken) }
        #expect(try await refresh(next.refreshToken, proof: proof()).refreshToken != nil, "the family was not revoked by the thief")
    }

    @Test func anUnboundSessionIsNotBoundLaterButItsAccessTokenIs() async throws {
        let login = try await login()
        let refreshed = try await refresh(login.refreshToken, proof: proof())
        #expect(refreshed.tokenType == "DPoP", "the access token issued with a proof is bound to it")
        #expect(try await introspect(refreshed.refreshToken ?? "").cnf == nil, "the session stays unbound")
        #expect(try await refresh(refreshed.refreshToken).tokenType == "Bearer", "and refreshes without a proof")
    }

    @Test func clientCredentialsTokensAreBoundToTheProof() async throws {
        let answer = try await token(["grant_type": "client_credentials"], proof: proof())
        #expect(try answer.tokenType == "DPoP" && claims(answer.accessToken)["cnf"] as? [String: String] == ["jkt": key.thumbprint])
    }

    @Test func requiredMeansEveryGrantAndForPublicClientsOnlyTheirs() async throws {
        try await policy(#"{"dpop": "required_for_public_clients"}"#)
        _ = try await login()
        await #expect(throws: OAuthError.invalidDPoPProof(reason: "dpop_proof_missing")) { try await login(client: "app") }
        #expect(try await login(client: "app", proof: proof()).tokenType == "DPoP")
        try await policy(#"{"dpop": "required"}"#)
        await #expect(throws: OAuthError.invalidDPoPProof(reason: "dpop_proof_missing")) { try await login() }
        await #expect(throws: OAuthError.invalidDPoPProof(reason: "dpop_proof_missing")) { try await token(["grant_type": "client_credentials"]) }
        #expect(try await login(proof: proof()).tokenType == "DPoP")
    }

    @Test func nonceRequiredMeansUseDPoPNonceThenAcceptance() async throws {
        try await policy(#"{"dpop_nonce": true}"#)
        var nonce = ""
        do {
            _ = try await login(proof: proof())
            Issue.record("a proof without a nonce was accepted")
        } catch OAuthError.useDPoPNonce(let given) {
            nonce = given
        }
        let login = try await login(proof: proof(nonce: nonce))
        #expect(login.tokenType == "DPoP" && login.dpopNonce == nonce)
        await #expect(throws: OAuthError.self) { try await refresh(login.refreshToken, proof: proof(nonce: "forged")) }
        // A nonce of the previous period is still taken; two periods on, it is not.
        clock.advance(300)
        #expect(try await refresh(login.refreshToken, proof: proof(nonce: nonce)).refreshToken != nil)
        clock.advance(300)
        await #expect(throws: OAuthError.self) { try await self.login(proof: proof(nonce: nonce)) }
    }

    @Test func twoProofHeadersOrAProofForAnotherEndpointAreRefused() async throws {
        await #expect(throws: OAuthError.invalidDPoPProof(reason: "dpop_multiple_proofs")) {
            try await token(["grant_type": "client_credentials"], proof: proof(), proof())
        }
        await #expect(throws: OAuthError.invalidDPoPProof(reason: "dpop_wrong_htu")) {
            try await token(["grant_type": "client_credentials"], proof: proof(url: "http://id.test/t/acme/oauth/revoke"))
        }
    }

    @Test func userinfoTakesABoundTokenOnlyWithAProofNamingIt() async throws {
        let login = try await login(proof: proof())
        let url = "http://id.test/t/acme/userinfo"
        func userinfo(_ presented: UserInfoEndpoint.Presentation, proof: String?) async throws -> UserInfo {
            try await runtime.userInfo.userInfo(tenantID: "acme", presented: presented,
                                                dpop: proof.map { DPoPGate.Evidence(proofs: [$0], method: "GET", url: url) })
        }
        let answer = try await userinfo(.dpop(login.accessToken), proof: key.proof(url, method: "GET", at: clock.now(), accessToken: login.accessToken))
        #expect(answer.sub.hasPrefix("usr_"))
        await #expect(throws: OAuthError.invalidToken(reason: "dpop_bound_token_sent_as_bearer")) { try await userinfo(.bearer(login.accessToken), proof: nil) }
        await #expect(throws: OAuthError.invalidDPoPProof(reason: "dpop_proof_missing")) { try await userinfo(.dpop(login.accessToken), proof: nil) }
        await #expect(throws: OAuthError.invalidDPoPProof(reason: "dpop_missing_ath")) {
            try await userinfo(.dpop(login.accessToken), proof: key.proof(url, method: "GET", at: clock.now()))
        }
        let thief = try DPoPKeyPair(.es256)
        await #expect(throws: OAuthError.invalidDPoPProof(reason: "dpop_key_not_bound")) {
            try await userinfo(.dpop(login.accessToken), proof: thief.proof(url, method: "GET", at: clock.now(), accessToken: login.accessToken))
        }
        let plain = try await self.login()
        await #expect(throws: OAuthError.invalidToken(reason: "bearer_token_sent_as_dpop")) { try await userinfo(.dpop(plain.accessToken), proof: nil) }
    }

    @Test func everyRefusedProofIsAudited() async throws {
        _ = try? await token(["grant_type": "client_credentials"], proof: "not-a-proof")
        await runtime.audit.flush()
        let events = try await runtime.audit.events(tenantID: "acme", kind: .dpopProofRefused, after: 0, limit: 10)
        #expect(events.map(\.detail) == ["dpop_malformed"])
    }
}
