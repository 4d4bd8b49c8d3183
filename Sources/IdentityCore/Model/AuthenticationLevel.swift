import Foundation

/// How strongly a session authenticated: `pwd` (password) < `mfa` (password + TOTP).
public enum AuthenticationLevel: String, Sendable, Codable, Comparable, CaseIterable {
    case pwd, mfa

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
    private var rank: Int { self == .pwd ? 0 : 1 }

    /// The `amr` values (RFC 8176) that go with this level.
    public var methods: [String] { self == .pwd ? ["pwd"] : ["pwd", "otp", "mfa"] }
}
