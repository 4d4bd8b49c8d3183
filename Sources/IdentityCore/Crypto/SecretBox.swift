import Crypto
import Foundation

/// Seals secrets at rest (signing keys, TOTP seeds) with AES-256-GCM under the master key.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    /// `masterKey` must be 32 bytes.
    public init(masterKey: [UInt8]) throws {
        guard masterKey.count == 32 else { throw SecretBoxError.badMasterKey }
        key = SymmetricKey(data: masterKey)
    }

    /// The base64 of nonce ‖ ciphertext ‖ tag.
    public func seal(_ plaintext: [UInt8]) throws -> String {
        guard let combined = try AES.GCM.seal(plaintext, using: key).combined else { throw SecretBoxError.sealFailed }
        return combined.base64EncodedString()
    }

    /// The plaintext of `sealed`; throws when it was not sealed under this master key.
    public func open(_ sealed: String) throws -> [UInt8] {
        guard let data = Data(base64Encoded: sealed) else { throw SecretBoxError.openFailed }
        do {
            return [UInt8](try AES.GCM.open(AES.GCM.SealedBox(combined: data), using: key))
        } catch {
            throw SecretBoxError.openFailed
        }
    }
}

public enum SecretBoxError: Error, Sendable, CustomStringConvertible {
    case badMasterKey, sealFailed, openFailed
    public var description: String {
        switch self {
        case .badMasterKey: "the master key must be 32 bytes (base64 of 32 random bytes)"
        case .sealFailed: "sealing failed"
        case .openFailed: "a sealed secret could not be opened: wrong master key or corrupt data"
        }
    }
}
