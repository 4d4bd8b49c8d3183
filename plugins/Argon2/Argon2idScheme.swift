import CArgon2
import Foundation
import IdentityCore

/// Argon2id (RFC 9106), OWASP's first choice for passwords, through Debian's libargon2:
/// `$argon2id$v=19$m=19456,t=2,p=1$…` — 19 MiB, two passes, one lane by default (OWASP's minimum), which is
/// both stronger and cheaper per login than scrypt at 2^17.
public struct Argon2idScheme: PasswordScheme {
    /// Memory in KiB.
    public var memoryKiB: Int
    /// Passes over the memory.
    public var iterations: Int
    public var parallelism: Int

    public init(memoryKiB: Int = 19_456, iterations: Int = 2, parallelism: Int = 1) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
    }

    public var identifier: String { "argon2id" }
    public var parameters: String { "v=19$m=\(memoryKiB),t=\(iterations),p=\(parallelism)" }
    public var memory: Int { memoryKiB * 1024 }

    public func derive(_ secret: [UInt8], salt: [UInt8], parameters: String?, length: Int) throws -> [UInt8]? {
        var m = memoryKiB, t = iterations, p = parallelism
        if let parameters {
            let parts = parameters.split(separator: "$")
            guard parts.count == 2, parts[0] == "v=19", let values = PHC.numbers(parts[1]), let mm = values["m"], let tt = values["t"],
                  let pp = values["p"], (8...4_194_304).contains(mm), (1...64).contains(tt), (1...64).contains(pp), mm >= 8 * pp else { return nil }
            (m, t, p) = (mm, tt, pp)
        }
        guard salt.count >= 8, (4...128).contains(length) else { return nil }
        var output = [UInt8](repeating: 0, count: length)
        let status = secret.withUnsafeBytes { secretBytes in
            salt.withUnsafeBytes { saltBytes in
                output.withUnsafeMutableBytes { outputBytes in
                    argon2id_hash_raw(UInt32(t), UInt32(m), UInt32(p), secretBytes.baseAddress, secretBytes.count,
                                      saltBytes.baseAddress, saltBytes.count, outputBytes.baseAddress, outputBytes.count)
                }
            }
        }
        guard status == ARGON2_OK.rawValue else { throw Argon2Error(code: status) }
        return output
    }
}

public struct Argon2Error: Error, CustomStringConvertible {
    public let code: Int32
    public var description: String { "argon2: " + String(cString: argon2_error_message(code)) }
}
