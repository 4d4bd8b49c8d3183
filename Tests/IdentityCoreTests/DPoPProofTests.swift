import Crypto
import Foundation
import IdentityCore
import IdentityTestSupport
import Testing

/// The proof's validation (RFC 9449 §4.3) by itself: every algorithm, every claim wrong in turn, clock skew
/// both ways, malformed JOSE, and bytes that are no proof at all.
@Suite struct DPoPProofTests {
    static let url = "https://id.example/t/acme/oauth/token"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let key = try! DPoPKeyPair(.es256)
    let validator = DPoPProofValidator()

    func validate(_ proof: String, method: String = "POST", url: String = url, accessToken: String? = nil, nonce: Bool = false,
                  accepts: @escaping (String) -> Bool = { $0 == "good-nonce" }) throws -> DPoPProof {
        try validator.validate(proof, .init(method: method, url: url, accessToken: accessToken, nonceRequired: nonce), now: Self.now,
                               acceptsNonce: accepts)
    }

    func fault(_ proof: String, method: String = "POST", url: String = url, accessToken: String? = nil) -> DPoPProof.Fault? {
        do {
            _ = try validate(proof, method: method, url: url, accessToken: accessToken)
            return nil
        } catch let fault as DPoPProof.Fault {
            return fault
        } catch {
            return nil
        }
    }

    @Test(arguments: DPoPKeyPair.Kind.allCases)
    func aGoodProofOfEachAlgorithmIsAcceptedAndNamesItsKey(kind: DPoPKeyPair.Kind) throws {
        let key = try DPoPKeyPair(kind)
        let proof = try validate(key.proof(Self.url, at: Self.now, jti: "j-1"))
        #expect(proof == DPoPProof(jkt: key.thumbprint, jti: "j-1", issuedAt: Int64(Self.now.timeIntervalSince1970)))
        #expect(proof.jkt.utf8.count == 43)
    }

    /// RFC 7638 §3.1's example key and thumbprint.
    @Test func theThumbprintIsRFC7638s() throws {
        let jwk: [String: JSONValue] = [
            "kty": .string("RSA"), "e": .string("AQAB"), "alg": .string("RS256"), "kid": .string("2011-04-29"),
            "n": .string("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"),
        ]
        #expect(try DPoPProofValidator.thumbprint(of: jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var claims: [String: JSONValue?] = [:]
        var header: [String: JSONValue?] = [:]
        var fault: DPoPProof.Fault
        var description: String { name }
    }

    static let otherKey = try! DPoPKeyPair(.es256)
    static let privateJWK: JSONValue = {
        var jwk = key.jwk
        jwk["d"] = .string("AAAA")
        return .object(jwk)
    }()

    static let cases: [Case] = [
        Case(name: "typ jwt", header: ["typ": .string("jwt")], fault: .wrongType),
        Case(name: "no typ", header: ["typ": nil], fault: .wrongType),
        Case(name: "alg none", header: ["alg": .string("none")], fault: .unsupportedAlgorithm),
        Case(name: "alg HS256", header: ["alg": .string("HS256")], fault: .unsupportedAlgorithm),
        Case(name: "no alg", header: ["alg": nil], fault: .unsupportedAlgorithm),
        Case(name: "alg RS256 with an EC key", header: ["alg": .string("RS256")], fault: .algorithmDoesNotMatchKey),
        Case(name: "a private key in jwk", header: ["jwk": privateJWK], fault: .privateKeyInHeader),
        Case(name: "no jwk", header: ["jwk": nil], fault: .badKey),
        Case(name: "jwk not an object", header: ["jwk": .string("x")], fault: .badKey),
        Case(name: "a symmetric jwk", header: ["jwk": .object(["kty": .string("oct"), "k": .string("c2VjcmV0")])], fault: .privateKeyInHeader),
        Case(name: "an EC jwk on another curve", header: ["jwk": .object(["kty": .string("EC"), "crv": .string("P-384"), "x": .string("AA"), "y": .string("AA")])],
             fault: .badKey),
        Case(name: "an EC point off the curve", header: ["jwk": .object(["kty": .string("EC"), "crv": .string("P-256"),
                                                                          "x": .string(Base64URL.encode([UInt8](repeating: 1, count: 32))),
                                                                          "y": .string(Base64URL.encode([UInt8](repeating: 2, count: 32)))])],
             fault: .badKey),
        Case(name: "a jwk of another key", header: ["jwk": .object(otherKey.jwk)], fault: .badSignature),
        Case(name: "crit", header: ["crit": .array([.string("exp")])], fault: .criticalHeader),
        Case(name: "no jti", claims: ["jti": nil], fault: .missingClaim("jti")),
        Case(name: "an empty jti", claims: ["jti": .string("")], fault: .missingClaim("jti")),
        Case(name: "no htm", claims: ["htm": nil], fault: .missingClaim("htm")),
        Case(name: "htm GET", claims: ["htm": .string("GET")], fault: .wrongMethod),
        Case(name: "htm post", claims: ["htm": .string("post")], fault: .wrongMethod),
        Case(name: "no htu", claims: ["htu": nil], fault: .missingClaim("htu")),
        Case(name: "htu another path", claims: ["htu": .string("https://id.example/t/acme/oauth/revoke")], fault: .wrongURL),
        Case(name: "htu another tenant", claims: ["htu": .string("https://id.example/t/umbrella/oauth/token")], fault: .wrongURL),
        Case(name: "htu another host", claims: ["htu": .string("https://evil.example/t/acme/oauth/token")], fault: .wrongURL),
        Case(name: "htu http", claims: ["htu": .string("http://id.example/t/acme/oauth/token")], fault: .wrongURL),
        Case(name: "htu another port", claims: ["htu": .string("https://id.example:8443/t/acme/oauth/token")], fault: .wrongURL),
        Case(name: "htu relative", claims: ["htu": .string("/t/acme/oauth/token")], fault: .wrongURL),
        Case(name: "no iat", claims: ["iat": nil], fault: .missingClaim("iat")),
        Case(name: "iat 61 s ahead", claims: ["iat": .number(1_800_000_061)], fault: .issuedInTheFuture),
        Case(name: "iat 61 s ago", claims: ["iat": .number(1_799_999_939)], fault: .expired),
        Case(name: "iat a string", claims: ["iat": .string("1800000000")], fault: .malformed),
        Case(name: "htu a number", claims: ["htu": .number(1)], fault: .malformed),
    ]

    @Test(arguments: cases) func aWrongProofIsRefused(_ test: Case) {
        #expect(fault(Self.key.proof(Self.url, at: Self.now, claims: test.claims, header: test.header)) == test.fault)
    }

    @Test func theClockMayBeOffBySixtySecondsEitherWay() throws {
        for skew in [-60.0, -59, 0, 59, 60] {
            #expect(throws: Never.self) { try validate(Self.key.proof(Self.url, at: Self.now + skew)) }
        }
    }

    @Test func htuIsComparedWithoutQueryFragmentCaseOfHostOrTheDefaultPort() throws {
        for htu in ["https://id.example/t/acme/oauth/token?x=1", "https://id.example/t/acme/oauth/token#f", "https://ID.EXAMPLE/t/acme/oauth/token",
                    "https://id.example:443/t/acme/oauth/token", "HTTPS://id.example/t/acme/oauth/token"] {
            #expect(throws: Never.self, "\(htu)") { try validate(Self.key.proof(Self.url, at: Self.now, claims: ["htu": .string(htu)])) }
        }
        #expect(fault(Self.key.proof(Self.url, at: Self.now, claims: ["htu": .string("https://id.example/t/acme/oauth/TOKEN")])) == .wrongURL)
    }

    @Test func aResourceProofMustNameTheAccessToken() throws {
        let url = "https://id.example/t/acme/userinfo"
        #expect(throws: Never.self) { try validate(Self.key.proof(url, method: "GET", at: Self.now, accessToken: "at-1"), method: "GET", url: url, accessToken: "at-1") }
        #expect(fault(Self.key.proof(url, method: "GET", at: Self.now), method: "GET", url: url, accessToken: "at-1") == .missingClaim("ath"))
        #expect(fault(Self.key.proof(url, method: "GET", at: Self.now, accessToken: "at-2"), method: "GET", url: url, accessToken: "at-1") == .wrongAccessTokenHash)
    }

    @Test func aRequiredNonceMustBeTheServersCurrentOne() throws {
        #expect(throws: DPoPProofValidator.NonceRefusal.self) { try validate(Self.key.proof(Self.url, at: Self.now), nonce: true) }
        #expect(throws: DPoPProofValidator.NonceRefusal.self) { try validate(Self.key.proof(Self.url, at: Self.now, nonce: "stale"), nonce: true) }
        #expect(throws: Never.self) { try validate(Self.key.proof(Self.url, at: Self.now, nonce: "good-nonce"), nonce: true) }
    }

    @Test func aTamperedPayloadOrSignatureIsRefused() {
        let parts = Self.key.proof(Self.url, at: Self.now).split(separator: ".").map(String.init)
        let other = Self.key.proof(Self.url, at: Self.now, claims: ["htm": .string("GET")]).split(separator: ".").map(String.init)
        #expect(fault([parts[0], other[1], parts[2]].joined(separator: ".")) == .badSignature)
        var signature = Array(parts[2])
        signature[5] = signature[5] == "A" ? "B" : "A"
        #expect(fault([parts[0], parts[1], String(signature)].joined(separator: ".")) == .badSignature)
        #expect(fault([parts[0], parts[1], ""].joined(separator: ".")) == .badSignature)
    }

    @Test(arguments: ["", "a", "a.b", "a.b.c.d", "!!!.e30.AA", "e30.e30.AA", "eyJ0eXAiOiJkcG9wK2p3dCJ9..", String(repeating: "A", count: 9000) + ".e30.AA"])
    func malformedJOSEIsRefused(proof: String) {
        #expect(fault(proof) != nil)
    }

    /// Random and mutated bytes never crash the validator and are never accepted.
    @Test func noBytesCrashTheValidator() {
        var generator = SystemRandomNumberGenerator()
        let good = Array(Self.key.proof(Self.url, at: Self.now).utf8)
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0..<400, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                bytes = good
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0x20...0x7E, using: &generator)
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if let accepted = try? validate(text) { #expect(accepted.jkt == Self.key.thumbprint, "a mutated proof accepted for another key") }
        }
    }
}
