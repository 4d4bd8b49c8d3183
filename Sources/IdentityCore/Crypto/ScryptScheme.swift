import Crypto
import CryptoExtras
import Foundation

/// scrypt (`$scrypt$ln=15,r=8,p=1$…`): identityd's scheme before Argon2id, still verified so that existing
/// hashes keep working (each is replaced by an Argon2id hash at the user's next login).
public struct ScryptScheme: PasswordScheme {
    /// log2 of N, the CPU/memory cost.
    public var logN: Int
    public var r: Int
    public var p: Int

    public init(logN: Int = 15, r: Int = 8, p: Int = 1) {
        self.logN = logN
        self.r = r
        self.p = p
    }

    /// Cheap parameters for unit tests only.
    public static let testing = ScryptScheme(logN: 10, r: 8, p: 1)

    public var identifier: String { "scrypt" }
    public var parameters: String { "ln=\(logN),r=\(r),p=\(p)" }
    /// 128·N·r·p bytes.
    public var memory: Int { 128 * (1 << logN) * r * p }

    public func derive(_ secret: [UInt8], salt: [UInt8], parameters: String?, length: Int) throws -> [UInt8]? {
        var logN = self.logN, r = self.r, p = self.p
        if let parameters {
            guard let values = PHC.numbers(parameters), let ln = values["ln"], let rr = values["r"], let pp = values["p"],
                  (1...24).contains(ln), (1...32).contains(rr), (1...16).contains(pp) else { return nil }
            (logN, r, p) = (ln, rr, pp)
        }
        let memory = 128 * (1 << logN) * r * p
        let key = try KDF.Scrypt.deriveKey(from: secret, salt: salt, outputByteCount: length, rounds: 1 << logN,
                                           blockSize: r, parallelism: p, maxMemory: memory + (1 << 20))
        return key.withUnsafeBytes { Array($0) }
    }
}
