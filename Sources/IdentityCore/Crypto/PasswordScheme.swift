import Foundation

/// One way of hashing passwords, identified in PHC strings: a seam, since Argon2id comes from a plugin that
/// wraps Debian's libargon2 (`plugins/Argon2`); scrypt is the core's own (swift-crypto).
public protocol PasswordScheme: Sendable {
    /// The PHC identifier (`argon2id`, `scrypt`).
    var identifier: String { get }
    /// The PHC parameter string new hashes get (`v=19$m=19456,t=2,p=1` holds its own `$`).
    var parameters: String { get }
    /// Bytes of memory one hash takes with `parameters`.
    var memory: Int { get }
    /// `length` bytes derived from `secret` and `salt` with `parameters` as a stored PHC string has them (nil:
    /// this scheme's current ones); nil when those are not this scheme's or out of its bounds.
    func derive(_ secret: [UInt8], salt: [UInt8], parameters: String?, length: Int) throws -> [UInt8]?
}

/// A PHC string: `$scheme$parameters$salt$hash`, salt and hash in unpadded standard base64. `parameters`
/// may hold `$` itself (Argon2's `v=19$m=…`), so the salt and hash are the last two fields.
public struct PHC: Sendable, CustomStringConvertible {
    var scheme: String
    var parameters: String
    var salt: [UInt8]
    var hash: [UInt8]

    init(scheme: String, parameters: String, salt: [UInt8], hash: [UInt8]) {
        self.scheme = scheme
        self.parameters = parameters
        self.salt = salt
        self.hash = hash
    }

    init?(_ text: String) {
        guard text.utf8.count <= 512 else { return nil }
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count >= 5, parts[0].isEmpty, !parts[1].isEmpty, let salt = Self.unpadded64(parts[parts.count - 2]),
              let hash = Self.unpadded64(parts[parts.count - 1]), !hash.isEmpty, hash.count <= 128 else { return nil }
        scheme = String(parts[1])
        parameters = parts[2..<(parts.count - 2)].joined(separator: "$")
        self.salt = salt
        self.hash = hash
    }

    public var description: String { "$\(scheme)$\(parameters)$\(Self.b64(salt))$\(Self.b64(hash))" }

    static func b64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "") }

    static func unpadded64(_ text: Substring) -> [UInt8]? {
        var text = String(text)
        while text.count % 4 != 0 { text += "=" }
        return Data(base64Encoded: text).map { [UInt8]($0) }
    }

    /// `key=value,key=value` as numbers; nil when malformed.
    public static func numbers(_ text: some StringProtocol) -> [String: Int]? {
        var values: [String: Int] = [:]
        for pair in text.split(separator: ",") {
            let kv = pair.split(separator: "=")
            guard kv.count == 2, let value = Int(kv[1]) else { return nil }
            values[String(kv[0])] = value
        }
        return values
    }
}
