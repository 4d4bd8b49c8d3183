import Foundation
import JWTKit

/// A tenant's published keys, loaded and ready: signs with the active key, verifies with any published one,
/// and holds its JWKS document pre-rendered. Built from the store and cached per node by `TenantDirectory`.
public struct TenantKeyring: Sendable {
    private let collection: JWTKeyCollection
    /// The key that signs new tokens.
    public let activeKID: String
    public let activeAlgorithm: SigningAlgorithm
    /// The algorithm of each published key, by kid.
    public let algorithms: [String: SigningAlgorithm]
    /// `{"keys": [...]}` with every published key: pending, active, and retired but still verifying.
    public let jwksJSON: String

    /// Loads the keys of `keys` that are published at `now`; throws when none is active.
    public static func load(_ keys: [SigningKey], box: SecretBox, now: Date) async throws -> TenantKeyring {
        let collection = JWTKeyCollection()
        var algorithms: [String: SigningAlgorithm] = [:]
        var jwks: [String] = []
        var active: SigningKey?
        for key in keys where key.isPublished(at: now) {
            let pem = String(decoding: try box.open(key.sealedPrivateKey), as: UTF8.self)
            let kid = JWKIdentifier(string: key.kid)
            switch key.algorithm {
            case .es256: await collection.add(ecdsa: try ES256PrivateKey(pem: pem), kid: kid)
            case .edDSA: await collection.add(eddsa: try EdDSA.PrivateKey(pem: pem), kid: kid)
            case .rs256: await collection.add(rsa: try Insecure.RSA.PrivateKey(pem: pem), digestAlgorithm: .sha256, kid: kid)
            }
            algorithms[key.kid] = key.algorithm
            jwks.append(key.publicJWK)
            if key.state == .active, active == nil || (key.activatedAt ?? .distantPast) > (active?.activatedAt ?? .distantPast) {
                active = key
            }
        }
        guard let active else { throw SigningKeyError.noActiveKey(keys.first?.tenantID ?? "?") }
        return TenantKeyring(collection: collection, activeKID: active.kid, activeAlgorithm: active.algorithm,
                             algorithms: algorithms, jwksJSON: "{\"keys\":[" + jwks.joined(separator: ",") + "]}")
    }

    /// `payload` signed with the active key, with `typ` and `kid` in the header.
    public func sign(_ payload: some JWTPayload, typ: String) async throws -> String {
        var header = JWTHeader()
        header.typ = typ
        header.alg = activeAlgorithm.rawValue
        return try await collection.sign(payload, kid: JWKIdentifier(string: activeKID), header: header)
    }

    /// The payload of `token` if its header names `typ` and a published kid with a matching algorithm and its
    /// signature verifies; nil otherwise. Expiry is the caller's to check.
    public func verify<Payload: JWTPayload>(_ token: String, typ: String, as: Payload.Type) async -> Payload? {
        guard let header = JOSEHeader.of(token), header.typ?.lowercased() == typ, let kid = header.kid,
              let algorithm = algorithms[kid], header.alg == algorithm.rawValue else { return nil }
        return try? await collection.verify(token, as: Payload.self)
    }
}
