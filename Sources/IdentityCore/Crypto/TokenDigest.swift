import Crypto
import Foundation

/// SHA-256 digests of tokens and keys, as stored and as logged.
public enum TokenDigest {
    /// Lower-case hex SHA-256 of `text`: what the store keeps of opaque refresh tokens and admin keys.
    public static func hex(_ text: String) -> String { SHA256.hash(data: Array(text.utf8)).hexString }

    /// The first 12 hex digits of the SHA-256: the only trace of a token in the audit log.
    public static func prefix(_ text: String) -> String { String(hex(text).prefix(12)) }
}
