import Crypto
import Foundation

/// Where the core reads the time. Injected so tests control it; the core never calls `Date()` itself.
public protocol IdentityClock: Sendable {
    /// The current instant. Successive calls must never go backwards by more than the host clock does.
    func now() -> Date
}

/// The host's wall clock, truncated to whole milliseconds so that what is stored reads back equal.
public struct SystemClock: IdentityClock {
    public init() {}
    public func now() -> Date { Date().truncatedToMilliseconds }
}

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

extension Date {
    /// Milliseconds since 1970, the unit every store keeps time in.
    public var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    public init(millisecondsSince1970 ms: Int64) { self.init(timeIntervalSince1970: Double(ms) / 1000) }

    /// This instant with anything below a millisecond dropped.
    public var truncatedToMilliseconds: Date { Date(millisecondsSince1970: millisecondsSince1970) }

    /// Whole seconds since 1970, as JWT claims carry time.
    public var secondsSince1970: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
}
