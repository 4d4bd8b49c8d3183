import Foundation
import IdentityCore
import JWTKit
import Testing

@Suite struct TenantPolicyTests {
    func parse(_ json: String) throws -> TenantPolicy { try TenantPolicy(validating: JSONValue.parse(Array(json.utf8))) }

    func field(of json: String) -> String? {
        do {
            _ = try parse(json)
            return nil
        } catch let error as AdminError {
            return error.field
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func anEmptyBodyGivesTheDefaults() throws {
        #expect(try parse("{}") == TenantPolicy())
        #expect(TenantPolicy().accessTokenTTL == 600 && TenantPolicy().refreshReuseGrace == 10 && TenantPolicy().sessionMaxTTL == 7_776_000)
    }

    @Test func aFullPolicyRoundTrips() throws {
        let policy = try parse("""
            {"access_token_ttl": 60, "refresh_token_format": "jwt", "refresh_token_rotation": false, "refresh_reuse_grace": 0,
             "session_idle_ttl": 5, "session_max_ttl": 9, "signing_alg": "EdDSA", "dpop": "optional", "refresh_reuse_grace_count": 7,
             "step_up": [{"scope": "payments:write", "acr": "mfa", "max_age": 300}]}
            """)
        #expect(policy.refreshTokenFormat == .jwt && policy.signingAlg == .edDSA && policy.dpop == .optional && policy.refreshReuseGraceCount == 7)
        #expect(policy.stepUpRule(for: "payments:write") == StepUpRule(scope: "payments:write", acr: .mfa, maxAge: 300))
        let encoded = try JSONEncoder().encode(policy)
        #expect(try JSONDecoder().decode(TenantPolicy.self, from: encoded) == policy)
    }

    @Test(arguments: [
        (#"{"access_token_ttl": 0}"#, "access_token_ttl"),
        (#"{"access_token_ttl": "600"}"#, "access_token_ttl"),
        (#"{"access_token_ttl": 1.5}"#, "access_token_ttl"),
        (#"{"refresh_token_format": "paseto"}"#, "refresh_token_format"),
        (#"{"refresh_token_rotation": "yes"}"#, "refresh_token_rotation"),
        (#"{"refresh_reuse_grace": 61}"#, "refresh_reuse_grace"),
        (#"{"session_idle_ttl": 100, "session_max_ttl": 50}"#, "session_idle_ttl"),
        (#"{"signing_alg": "HS256"}"#, "signing_alg"),
        (#"{"step_up": [{"scope": "a", "acr": "otp", "max_age": 1}]}"#, "step_up[0].acr"),
        (#"{"step_up": [{"scope": "a", "acr": "mfa"}]}"#, "step_up[0].max_age"),
        (#"{"step_up": [{"scope": "a", "acr": "mfa", "max_age": 1}, {"scope": "a", "acr": "pwd", "max_age": 1}]}"#, "step_up[1].scope"),
        (#"{"dpop": "sometimes"}"#, "dpop"),
        (#"{"colour": "blue"}"#, "colour"),
    ])
    func aBadFieldIsNamed(json: String, expected: String) {
        #expect(field(of: json) == expected)
    }

    @Test func aBodyThatIsNotAnObjectIsRefused() {
        #expect(throws: AdminError.self) { try parse("[1]") }
        #expect(throws: AdminError.self) { try JSONValue.parse(Array("{".utf8)) }
    }
}

@Suite struct CryptoTests {
    @Test func totpMatchesRFC6238() {
        // RFC 6238 Appendix B, SHA-1 seed, truncated to 6 digits.
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        #expect(totp.code(at: Date(timeIntervalSince1970: 59)) == "287082")
        #expect(totp.code(at: Date(timeIntervalSince1970: 1_111_111_109)) == "081804")
        #expect(totp.verify("081804", at: Date(timeIntervalSince1970: 1_111_111_109 + 30)))
        #expect(!totp.verify("081804", at: Date(timeIntervalSince1970: 1_111_111_109 + 90)))
        #expect(!totp.verify("08180", at: Date(timeIntervalSince1970: 1_111_111_109)))
    }

    @Test func base32MatchesRFC4648() {
        #expect(TOTP.base32(Array("foobar".utf8)) == "MZXW6YTBOI")
    }

    @Test func scryptHashesVerifyAndCarryTheirParameters() async throws {
        let hasher = PasswordHasher(current: ScryptScheme.testing, random: SystemRandomSource(), lanes: 1)
        let hash = try await hasher.hash("correct horse", tenant: "acme")
        #expect(hash.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        #expect(try await hasher.verify("correct horse", against: hash, tenant: "acme"))
        #expect(!(try await hasher.verify("correct horsf", against: hash, tenant: "acme")))
        #expect(!(try await hasher.verify("correct horse", against: "$scrypt$garbage", tenant: "acme")))
        #expect(try await hasher.hash("correct horse", tenant: "acme") != hash)
    }

    @Test func sealedSecretsOpenOnlyUnderTheirMasterKey() throws {
        let box = try SecretBox(masterKey: Array(repeating: 7, count: 32))
        let sealed = try box.seal(Array("private".utf8), context: "totp:acme:usr_1")
        #expect(try box.open(sealed, context: "totp:acme:usr_1") == Array("private".utf8))
        #expect(throws: SecretBoxError.self) { try SecretBox(masterKey: Array(repeating: 8, count: 32)).open(sealed, context: "totp:acme:usr_1") }
        #expect(throws: SecretBoxError.self) { try SecretBox(masterKey: [1, 2, 3]) }
    }

    @Test func base64URLRoundTripsAndMatchesFoundation() {
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
            let encoded = Base64URL.encode(bytes)
            let foundation = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(encoded == foundation)
            #expect(Base64URL.decode(encoded) == bytes)
        }
        #expect(Base64URL.decode("ab=") == nil)
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(Base64URL.decode("abcde") == nil)
        #expect([0x00, 0x0f, 0xab, 0xff].hexString == "000fabff")
    }

    /// The keyring assembles compact JWS itself; jwt-kit, given only the published JWK, must accept what it
    /// signs, and the keyring must refuse a token whose payload or signature was changed.
    @Test(arguments: [SigningAlgorithm.es256, .edDSA, .rs256])
    func tokensVerifyAgainstThePublishedKeyElsewhereAndTamperingIsRefused(algorithm: SigningAlgorithm) async throws {
        let box = try SecretBox(masterKey: Array(repeating: 7, count: 32))
        let now = Date()
        let key = try SigningKeyFactory(box: box, random: SystemRandomSource()).make(algorithm, tenantID: "acme", state: .active, now: now)
        let keyring = try await TenantKeyring.load([key], box: box, now: now)
        let claims = AccessTokenClaims(iss: "https://id.example/t/acme", sub: "usr_1", aud: "api", exp: now.secondsSince1970 + 60,
                                       iat: now.secondsSince1970, jti: "j1", clientID: "web", scope: "openid \"api\"", sid: "sid_1")
        let token = try await keyring.sign(claims, typ: "at+jwt")
        #expect(await keyring.verify(token, typ: "at+jwt", as: AccessTokenClaims.self) == claims)
        #expect(await keyring.verify(token, typ: "rt+jwt", as: AccessTokenClaims.self) == nil)

        let elsewhere = JWTKeyCollection()
        try await elsewhere.add(jwksJSON: #"{"keys":["# + key.publicJWK + "]}")
        #expect(try await elsewhere.verify(token, as: AccessTokenClaims.self) == claims)
        let header = try JSONDecoder().decode([String: String].self, from: Data(try #require(Base64URL.decode(token.split(separator: ".")[0]))))
        #expect(header == ["alg": algorithm.rawValue, "kid": key.kid, "typ": "at+jwt"])

        var parts = token.split(separator: ".").map(String.init)
        var forged = claims
        forged.sub = "usr_2"
        parts[1] = Base64URL.encode(try JSONEncoder().encode(forged))
        #expect(await keyring.verify(parts.joined(separator: "."), typ: "at+jwt", as: AccessTokenClaims.self) == nil)
        parts = token.split(separator: ".").map(String.init)
        var signature = try #require(Base64URL.decode(parts[2]))
        signature[signature.count / 2] ^= 1
        parts[2] = Base64URL.encode(signature)
        #expect(await keyring.verify(parts.joined(separator: "."), typ: "at+jwt", as: AccessTokenClaims.self) == nil)
    }
}

@Suite struct JSONWriterTests {
    /// The hand-written documents are the documents `JSONEncoder` writes, escaping included.
    @Test func theTokenResponseAndAuditBatchesMatchJSONEncoder() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t bell \u{07} slash / é 🔑"
        for idToken in [nil, "id.token.sig"] {
            let response = TokenResponse(accessToken: "a.b.c", tokenType: "Bearer", expiresIn: 600, refreshToken: tricky, scope: "openid api",
                                         idToken: idToken)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            #expect(String(decoding: response.json, as: UTF8.self) == String(decoding: try encoder.encode(response), as: UTF8.self))
        }
        let events = [AuditEvent(tenantID: "acme", kind: .tokenIssued, time: Date(timeIntervalSince1970: 1_700_000_000.123), clientID: tricky),
                      AuditEvent(tenantID: "acme", kind: .loginFailed, time: Date(timeIntervalSince1970: 5), userAgent: "\u{00}", detail: "x")]
        let decoded = try JSONSerialization.jsonObject(with: Data(try AuditEvent.batchJSON(events).utf8)) as? [[String: Any]]
        #expect(decoded?.count == 2)
        #expect(decoded?[0]["client_id"] as? String == tricky)
        #expect(decoded?[0]["time_ms"] as? Int == 1_700_000_000_123)
        #expect(decoded?[0]["user_id"] is NSNull)
        // A NUL cannot be stored by PostgreSQL's jsonb (and would fail the whole batch): it becomes U+FFFD.
        #expect(decoded?[1]["user_agent"] as? String == "\u{FFFD}")
        #expect(decoded?[1]["kind"] as? String == "login_failed")
    }

    /// Signed claims are written by hand: they must read back as themselves, every optional present or not,
    /// and carry exactly the keys `JSONEncoder` would write.
    @Test func claimsReadBackAsThemselves() throws {
        let tricky = "quote \" backslash \\ newline \n bell \u{07} é 🔑"
        let access = [
            AccessTokenClaims(iss: "https://id/t/acme", sub: tricky, aud: "api", exp: 2_000_000_000, iat: 1_999_999_400, jti: "j",
                              clientID: "web", scope: "openid api"),
            AccessTokenClaims(iss: "https://id/t/acme", sub: "u1", aud: "api", exp: 2, iat: 1, jti: "j", clientID: "web", scope: "",
                              sid: "s", authTime: -5, acr: "urn:mfa", amr: ["pwd", tricky], cnf: .init(jkt: "thumb")),
            AccessTokenClaims(iss: "i", sub: "u", aud: "a", exp: 0, iat: 0, jti: "", clientID: "c", scope: "s", amr: []),
        ]
        for claims in access { try expectSameJSON(claims) }
        try expectSameJSON(RefreshTokenClaims(iss: "i", jti: tricky, sid: "s", exp: 9, iat: 8, clientID: "c"))
        for user in [(String?.none, String?.none), (tricky, "a@b.example")] {
            try expectSameJSON(IDTokenClaims(iss: "i", sub: "u", aud: "web", exp: 9, iat: 8, authTime: 7, acr: "0", amr: ["pwd"], sid: "s",
                                             azp: "web", preferredUsername: user.0, email: user.1))
        }
    }

    private func expectSameJSON<Claims: SignableClaims & Equatable>(_ claims: Claims) throws {
        let written = Data(claims.json)
        #expect(try JSONDecoder().decode(Claims.self, from: written) == claims)
        let keys = { (data: Data) in Set(((try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]).keys) }
        #expect(keys(written) == keys(try JSONEncoder().encode(claims)))
        #expect(!keys(written).isEmpty)
    }
}
