import Crypto
import Foundation

/// Where the core reads randomness. Injected so tests can make it deterministic.
public protocol RandomSource: Sendable {
    /// `count` bytes from a cryptographically secure generator.
    func bytes(_ count: Int) -> [UInt8]
}

/// The operating system's CSPRNG.
public struct SystemRandomSource: RandomSource {
    public init() {}
    /// From BoringSSL's CSPRNG (seeded by the OS): one call, not a system call per byte.
    public func bytes(_ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        return SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }
}

extension RandomSource {
    /// `count` random bytes as unpadded base64url text.
    public func token(bytes count: Int) -> String { Base64URL.encode(bytes(count)) }

    /// A prefixed random identifier (`usr_…`, `sid_…`) with 128 bits of entropy.
    public func identifier(prefix: String) -> String { prefix + "_" + token(bytes: 16) }
}
