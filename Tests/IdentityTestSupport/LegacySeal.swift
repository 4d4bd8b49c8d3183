import Crypto
import Foundation

/// Seals as identityd did before sealed values were bound to their row (AES-GCM without associated data,
/// plain base64): what the resealing migration has to find and replace.
public enum LegacySeal {
    public static func seal(_ plaintext: [UInt8], masterKey: [UInt8]) throws -> String {
        try AES.GCM.seal(plaintext, using: SymmetricKey(data: masterKey)).combined!.base64EncodedString()
    }
}
