import Crypto
import CryptoExtras
import Foundation

/// The public key of a DPoP proof's `jwk` header (RFC 7517): P-256 (ES256), Ed25519 (EdDSA) or RSA of at
/// least 2048 bits (RS256), with its RFC 7638 thumbprint. A JWK holding any private member is refused.
struct DPoPKey: Sendable {
    enum Material {
        case p256(P256.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)
    }

    let material: Material
    let algorithm: SigningAlgorithm
    /// base64url SHA-256 of the canonical JWK (the required members, sorted, no whitespace).
    let thumbprint: String

    /// Members that only a private key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
    static let privateMembers: Set<String> = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]

    init(jwk: [String: JSONValue]) throws(DPoPProof.Fault) {
        guard jwk.keys.allSatisfy({ !Self.privateMembers.contains($0) }) else { throw .privateKeyInHeader }
        func member(_ name: String) throws(DPoPProof.Fault) -> String {
            guard case .string(let value)? = jwk[name], !value.isEmpty else { throw .badKey }
            return value
        }
        func bytes(_ name: String) throws(DPoPProof.Fault) -> [UInt8] {
            guard let decoded = Base64URL.decode(try member(name)) else { throw .badKey }
            return decoded
        }
        let canonical: String
        switch try member("kty") {
        case "EC":
            guard try member("crv") == "P-256" else { throw .badKey }
            let x = try bytes("x"), y = try bytes("y")
            guard x.count == 32, y.count == 32, let key = try? P256.Signing.PublicKey(rawRepresentation: x + y) else { throw .badKey }
            material = .p256(key)
            algorithm = .es256
            canonical = #"{"crv":"P-256","kty":"EC","x":"\#(try member("x"))","y":"\#(try member("y"))"}"#
        case "OKP":
            guard try member("crv") == "Ed25519" else { throw .badKey }
            let x = try bytes("x")
            guard x.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: x) else { throw .badKey }
            material = .ed25519(key)
            algorithm = .edDSA
            canonical = #"{"crv":"Ed25519","kty":"OKP","x":"\#(try member("x"))"}"#
        case "RSA":
            let n = try bytes("n"), e = try bytes("e")
            guard n.count <= 1024, e.count <= 8, let key = try? _RSA.Signing.PublicKey(n: n, e: e) else { throw .badKey }
            material = .rsa(key)
            algorithm = .rs256
            canonical = #"{"e":"\#(try member("e"))","kty":"RSA","n":"\#(try member("n"))"}"#
        default:
            throw .badKey
        }
        thumbprint = Base64URL.encode(SHA256.hash(data: Array(canonical.utf8)))
    }

    func isValid(_ signature: [UInt8], for input: [UInt8]) -> Bool {
        switch material {
        case .p256(let key):
            guard signature.count == 64, let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(signature, for: input)
        case .ed25519(let key):
            return signature.count == 64 && key.isValidSignature(signature, for: input)
        case .rsa(let key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: input, padding: .insecurePKCS1v1_5)
        }
    }
}
