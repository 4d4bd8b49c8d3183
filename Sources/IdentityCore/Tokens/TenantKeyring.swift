import Crypto
import CryptoExtras
import Foundation
import JWTKit
import Synchronization

/// A tenant's published keys, loaded and ready: signs with the active key, verifies with any published one,
/// and holds its JWKS document pre-rendered. Built from the store and cached per node by `TenantDirectory`.
///
/// Compact JWS is put together here, over swift-crypto's keys, rather than through jwt-kit's key collection:
/// that collection is an actor, so every token of a tenant queued for one executor, and its JSON header was
/// encoded anew for each token. Here the header of each `typ` is rendered once per key, and signing and
/// verifying run on the caller's thread.
public struct TenantKeyring: Sendable {
    private let keys: [String: TokenKey]
    private let active: TokenKey
    /// The key that signs new tokens.
    public var activeKID: String { active.kid }
    public var activeAlgorithm: SigningAlgorithm { active.algorithm }
    /// The algorithm of each published key, by kid.
    public let algorithms: [String: SigningAlgorithm]
    /// `{"keys": [...]}` with every published key: pending, active, and retired but still verifying.
    public let jwksJSON: String
    /// Tokens whose signatures this keyring has verified (it is rebuilt when the tenant's keys change).
    private let verified = VerifiedTokens()

    /// The kids of published keys that could not be opened (sealed under another master key, moved from
    /// another row, corrupt): left out, so that the tenant keeps working with the others.
    public let unusable: [String]

    /// Loads the keys of `keys` that are published at `now`; throws when no usable key is active.
    public static func load(_ keys: [SigningKey], box: SecretBox, now: Date) async throws -> TenantKeyring {
        var loaded: [String: TokenKey] = [:]
        var jwks: [String] = []
        var active: SigningKey?
        var unusable: [String] = []
        for key in keys where key.isPublished(at: now) {
            let context = SealContext.signingKey(tenantID: key.tenantID, kid: key.kid)
            guard let sealed = try? box.open(key.sealedPrivateKey, context: context),
                  let tokenKey = try? TokenKey(kid: key.kid, algorithm: key.algorithm, pem: String(decoding: sealed, as: UTF8.self)) else {
                unusable.append(key.kid)
                continue
            }
            loaded[key.kid] = tokenKey
            jwks.append(key.publicJWK)
            if key.state == .active, active == nil || (key.activatedAt ?? .distantPast) > (active?.activatedAt ?? .distantPast) {
                active = key
            }
        }
        guard let active, let activeKey = loaded[active.kid] else { throw SigningKeyError.noActiveKey(keys.first?.tenantID ?? "?") }
        return TenantKeyring(keys: loaded, active: activeKey, algorithms: loaded.mapValues(\.algorithm),
                             jwksJSON: "{\"keys\":[" + jwks.joined(separator: ",") + "]}", unusable: unusable)
    }

    /// `payload` signed with the active key, with `typ` and `kid` in the header.
    public func sign(_ payload: some SignableClaims, typ: String) async throws -> String {
        let body = Base64URL.encode(payload.json)
        let input = active.header(typ: typ) + "." + body
        return input + "." + Base64URL.encode(try active.sign(Array(input.utf8)))
    }

    /// The payload of `token` if its header names `typ` and a published kid with a matching algorithm and its
    /// signature verifies; nil otherwise. Expiry is the caller's to check.
    public func verify<Payload: JWTPayload>(_ token: String, typ: String, as: Payload.Type) async -> Payload? {
        let digest = SHA256.hash(data: Array(token.utf8))
        if let payload = verified.payload(digest, typ: typ, as: Payload.self) { return payload }
        guard let header = JOSEHeader.of(token), header.typ?.lowercased() == typ, let kid = header.kid,
              let key = keys[kid], header.alg == key.algorithm.rawValue else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(parts[1]), let signature = Base64URL.decode(parts[2]),
              key.isValid(signature, for: Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))) else { return nil }
        guard let claims = try? JSONDecoder().decode(Payload.self, from: Data(payload)) else { return nil }
        verified.remember(digest, typ: typ, payload: claims)
        return claims
    }
}
