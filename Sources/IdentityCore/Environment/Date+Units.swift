import Crypto
import Foundation

extension Date {
    /// Milliseconds since 1970, the unit every store keeps time in.
    public var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    public init(millisecondsSince1970 ms: Int64) { self.init(timeIntervalSince1970: Double(ms) / 1000) }

    /// This instant with anything below a millisecond dropped.
    public var truncatedToMilliseconds: Date { Date(millisecondsSince1970: millisecondsSince1970) }

    /// Whole seconds since 1970, as JWT claims carry time.
    public var secondsSince1970: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
}

extension Date {
    /// This instant rounded down to a whole second, as JWT `exp` claims are.
    public var truncatedToSeconds: Date { Date(timeIntervalSince1970: TimeInterval(secondsSince1970)) }
}
