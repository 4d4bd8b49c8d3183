import Foundation

/// Space-separated OAuth scopes (RFC 6749 §3.3).
public enum Scope {
    /// Splits a `scope` parameter; nil when a token has characters the RFC forbids.
    public static func parse(_ text: String) -> [String]? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard parts.allSatisfy(isValidToken) else { return nil }
        return unique(parts)
    }

    /// `scopes` without repeats, in first-seen order.
    public static func unique(_ scopes: [String]) -> [String] {
        var seen = Set<String>()
        return scopes.filter { seen.insert($0).inserted }
    }

    /// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`, at most 200 bytes.
    public static func isValidToken(_ token: String) -> Bool {
        !token.isEmpty && token.utf8.count <= 200
            && token.utf8.allSatisfy { $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) }
    }

    public static func join(_ scopes: [String]) -> String { scopes.joined(separator: " ") }
}
