import Crypto
import Foundation

/// Seals secrets at rest (signing keys, TOTP seeds) with AES-256-GCM under the master key, bound to where
/// they belong: the `context` (`signing-key:{tenant}:{kid}`, `totp:{tenant}:{user}`) is the associated data,
/// so a sealed value moved to another row — another tenant's key, another user's seed — no longer opens.
///
/// Format: `v2.` + base64 of nonce ‖ ciphertext ‖ tag. Values sealed before contexts existed (plain base64,
/// no associated data) open only while `acceptsLegacy`; `SealedSecretMigration` seals them again, after
/// which the store says so and the runtime stops accepting them.
public struct SecretBox: Sendable {
    private let key: SymmetricKey
    /// Whether values sealed without a context still open.
    public let acceptsLegacy: Bool
    static let prefix = "v2."

    /// `masterKey` must be 32 bytes.
    public init(masterKey: [UInt8], acceptsLegacy: Bool = true) throws {
        guard masterKey.count == 32 else { throw SecretBoxError.badMasterKey }
        key = SymmetricKey(data: masterKey)
        self.acceptsLegacy = acceptsLegacy
    }

    private init(key: SymmetricKey, acceptsLegacy: Bool) {
        self.key = key
        self.acceptsLegacy = acceptsLegacy
    }

    /// The same box, refusing (or again accepting) values sealed without a context.
    public func accepting(legacy: Bool) -> SecretBox { SecretBox(key: key, acceptsLegacy: legacy) }

    /// A key for `purpose` derived from the master key (HKDF-SHA256), for MACs that every node must agree on
    /// (DPoP nonces) without sharing anything but the master key.
    public func derivedKey(for purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Array("identityd \(purpose)".utf8), outputByteCount: 32)
    }

    /// `plaintext` sealed for `context`.
    public func seal(_ plaintext: [UInt8], context: String) throws -> String {
        guard let combined = try AES.GCM.seal(plaintext, using: key, authenticating: Array(context.utf8)).combined else {
            throw SecretBoxError.sealFailed
        }
        return Self.prefix + combined.base64EncodedString()
    }

    /// The plaintext of `sealed`; throws when it was not sealed under this master key for this `context`.
    public func open(_ sealed: String, context: String) throws -> [UInt8] {
        let legacy = !sealed.hasPrefix(Self.prefix)
        guard !legacy || acceptsLegacy, let data = Data(base64Encoded: legacy ? sealed : String(sealed.dropFirst(Self.prefix.count))) else {
            throw SecretBoxError.openFailed
        }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            return [UInt8](legacy ? try AES.GCM.open(box, using: key) : try AES.GCM.open(box, using: key, authenticating: Array(context.utf8)))
        } catch {
            throw SecretBoxError.openFailed
        }
    }

    /// Whether `sealed` predates contexts.
    public static func isLegacy(_ sealed: String) -> Bool { !sealed.hasPrefix(prefix) }
}

/// Where a sealed value belongs: its associated data.
public enum SealContext {
    public static func signingKey(tenantID: String, kid: String) -> String { "signing-key:\(tenantID):\(kid)" }
    public static func totp(tenantID: String, userID: String) -> String { "totp:\(tenantID):\(userID)" }
    public static func alertSecret(tenantID: String) -> String { "alert-secret:\(tenantID)" }
    public static let masterKeyCheck = "master-key-check"
}

public enum SecretBoxError: Error, Sendable, CustomStringConvertible {
    case badMasterKey, sealFailed, openFailed
    public var description: String {
        switch self {
        case .badMasterKey: "the master key must be 32 bytes (base64 of 32 random bytes)"
        case .sealFailed: "sealing failed"
        case .openFailed: "a sealed secret could not be opened: wrong master key, corrupt data, or sealed for another row"
        }
    }
}
