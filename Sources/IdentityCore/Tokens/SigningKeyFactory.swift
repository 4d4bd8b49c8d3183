import Crypto
import CryptoExtras
import Foundation
import JWTKit

/// Makes new signing keys: generates the key pair, renders the public JWK, seals the private key.
public struct SigningKeyFactory: Sendable {
    let box: SecretBox
    let random: any RandomSource

    public init(box: SecretBox, random: any RandomSource) {
        self.box = box
        self.random = random
    }

    /// A new key for `tenantID` in `state`, created at `now`.
    public func make(_ algorithm: SigningAlgorithm, tenantID: String, state: SigningKey.State, now: Date) throws -> SigningKey {
        let kid = random.token(bytes: 12)
        let pem: String, jwk: [String: String]
        switch algorithm {
        case .es256:
            let key = ES256PrivateKey()
            guard let parameters = key.parameters else { throw SigningKeyError.unusableKey(kid) }
            pem = key.pemRepresentation
            jwk = ["kty": "EC", "crv": "P-256", "x": parameters.x, "y": parameters.y]
        case .edDSA:
            let key = Curve25519.Signing.PrivateKey()
            pem = EdDSA.PrivateKey(backing: key).pemRepresentation
            jwk = ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(key.publicKey.rawRepresentation)]
        case .rs256:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let primitives = try key.publicKey.getKeyPrimitives()
            pem = key.pemRepresentation
            jwk = ["kty": "RSA", "n": Base64URL.encode(primitives.modulus), "e": Base64URL.encode(primitives.publicExponent)]
        }
        let published = jwk.merging(["kid": kid, "alg": algorithm.rawValue, "use": "sig"]) { a, _ in a }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: published, options: [.sortedKeys]), as: UTF8.self)
        return SigningKey(tenantID: tenantID, kid: kid, algorithm: algorithm, state: state, publicJWK: json,
                          sealedPrivateKey: try box.seal(Array(pem.utf8), context: SealContext.signingKey(tenantID: tenantID, kid: kid)), createdAt: now,
                          activatedAt: state == .active ? now : nil)
    }
}

public enum SigningKeyError: Error, Sendable, CustomStringConvertible {
    case unusableKey(String)
    case noActiveKey(String)
    public var description: String {
        switch self {
        case .unusableKey(let kid): "signing key \(kid) cannot be loaded"
        case .noActiveKey(let tenant): "tenant \(tenant) has no active signing key"
        }
    }
}
