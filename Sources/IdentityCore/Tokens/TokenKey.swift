import Crypto
import CryptoExtras
import Foundation
import JWTKit
import Synchronization

/// One published key: its private half for signing, its public half for verifying, and its headers.
struct TokenKey: Sendable {
    enum Material: Sendable {
        case es256(P256.Signing.PrivateKey, P256.Signing.PublicKey)
        case edDSA(Curve25519.Signing.PrivateKey, Curve25519.Signing.PublicKey)
        case rs256(_RSA.Signing.PrivateKey, _RSA.Signing.PublicKey)
    }

    let kid: String
    let algorithm: SigningAlgorithm
    let material: Material
    /// The base64url JOSE header for each `typ` identityd signs.
    private let headers: [String: String]

    init(kid: String, algorithm: SigningAlgorithm, pem: String) throws {
        self.kid = kid
        self.algorithm = algorithm
        switch algorithm {
        case .es256:
            let key = try P256.Signing.PrivateKey(pemRepresentation: pem)
            material = .es256(key, key.publicKey)
        case .edDSA:
            let key = try Curve25519.Signing.PrivateKey(pemRepresentation: pem)
            material = .edDSA(key, key.publicKey)
        case .rs256:
            let key = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
            material = .rs256(key, key.publicKey)
        }
        headers = Dictionary(uniqueKeysWithValues: Self.types.map { ($0, Self.renderHeader(alg: algorithm.rawValue, kid: kid, typ: $0)) })
    }

    static let types = ["at+jwt", "rt+jwt", "JWT"]

    func header(typ: String) -> String {
        headers[typ] ?? Self.renderHeader(alg: algorithm.rawValue, kid: kid, typ: typ)
    }

    private static func renderHeader(alg: String, kid: String, typ: String) -> String {
        let fields = ["alg": alg, "kid": kid, "typ": typ]
        let json = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Base64URL.encode(json)
    }

    func sign(_ input: [UInt8]) throws -> [UInt8] {
        switch material {
        case .es256(let key, _): Array(try key.signature(for: input).rawRepresentation)
        case .edDSA(let key, _): Array(try key.signature(for: input))
        case .rs256(let key, _): Array(try key.signature(for: input, padding: .insecurePKCS1v1_5).rawRepresentation)
        }
    }

    func isValid(_ signature: [UInt8], for input: [UInt8]) -> Bool {
        switch material {
        case .es256(_, let key):
            guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(signature, for: input)
        case .edDSA(_, let key):
            return key.isValidSignature(signature, for: input)
        case .rs256(_, let key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: input, padding: .insecurePKCS1v1_5)
        }
    }
}
