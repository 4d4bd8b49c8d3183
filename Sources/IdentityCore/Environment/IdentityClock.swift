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
