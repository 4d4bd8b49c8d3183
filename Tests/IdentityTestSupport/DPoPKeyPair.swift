import Crypto
import CryptoExtras
import Foundation
import IdentityCore

/// A client's DPoP key and the proofs it signs (RFC 9449 §4.2), for tests: any header or claim can be set,
/// left out (`nil` in `claims`) or replaced, to build every wrong proof in turn.
public struct DPoPKeyPair: Sendable {
    public enum Kind: String, Sendable, CaseIterable, CustomStringConvertible {
        case es256 = "ES256", edDSA = "EdDSA", rs256 = "RS256"
        public var description: String { rawValue }
    }

    enum Material: Sendable {
        case es256(P256.Signing.PrivateKey)
        case edDSA(Curve25519.Signing.PrivateKey)
        case rs256(_RSA.Signing.PrivateKey)
    }

    let material: Material
    public let kind: Kind

    public init(_ kind: Kind = .es256) throws {
        self.kind = kind
        switch kind {
        case .es256: material = .es256(P256.Signing.PrivateKey())
        case .edDSA: material = .edDSA(Curve25519.Signing.PrivateKey())
        case .rs256: material = .rs256(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        }
    }

    /// The public JWK.
    public var jwk: [String: JSONValue] {
        switch material {
        case .es256(let key):
            let raw = Array(key.publicKey.rawRepresentation)
            return ["kty": .string("EC"), "crv": .string("P-256"), "x": .string(Base64URL.encode(raw.prefix(32))),
                    "y": .string(Base64URL.encode(raw.suffix(32)))]
        case .edDSA(let key):
            return ["kty": .string("OKP"), "crv": .string("Ed25519"), "x": .string(Base64URL.encode(key.publicKey.rawRepresentation))]
        case .rs256(let key):
            let primitives = try! key.publicKey.getKeyPrimitives()
            return ["kty": .string("RSA"), "n": .string(Base64URL.encode(primitives.modulus)), "e": .string(Base64URL.encode(primitives.publicExponent))]
        }
    }

    /// RFC 7638 thumbprint of `jwk`.
    public var thumbprint: String { try! DPoPProofValidator.thumbprint(of: jwk) }

    /// A proof for `method` and `url` at `iat`, with `claims` merged over the usual ones (a `nil` value leaves
    /// the claim out) and `header` over the usual header; `accessToken` adds `ath`.
    public func proof(_ url: String, method: String = "POST", at iat: Date, accessToken: String? = nil, nonce: String? = nil,
                      jti: String = UUID().uuidString, claims extra: [String: JSONValue?] = [:], header extraHeader: [String: JSONValue?] = [:],
                      signedBy signer: DPoPKeyPair? = nil) -> String {
        var header: [String: JSONValue] = ["typ": .string("dpop+jwt"), "alg": .string(kind.rawValue), "jwk": .object(jwk)]
        for (name, value) in extraHeader { header[name] = value }
        var claims: [String: JSONValue] = ["jti": .string(jti), "htm": .string(method), "htu": .string(url),
                                           "iat": .number(Double(Int64(iat.timeIntervalSince1970)))]
        if let accessToken { claims["ath"] = .string(Base64URL.encode(SHA256.hash(data: Array(accessToken.utf8)))) }
        if let nonce { claims["nonce"] = .string(nonce) }
        for (name, value) in extra { claims[name] = value }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let input = Base64URL.encode(try! encoder.encode(JSONValue.object(header))) + "." + Base64URL.encode(try! encoder.encode(JSONValue.object(claims)))
        return input + "." + Base64URL.encode((signer ?? self).sign(Array(input.utf8)))
    }

    public func sign(_ input: [UInt8]) -> [UInt8] {
        switch material {
        case .es256(let key): Array(try! key.signature(for: input).rawRepresentation)
        case .edDSA(let key): Array(try! key.signature(for: input))
        case .rs256(let key): Array(try! key.signature(for: input, padding: .insecurePKCS1v1_5).rawRepresentation)
        }
    }
}
