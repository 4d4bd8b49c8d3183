import Foundation

/// A user's sign-in in a browser (single sign-on): while it lives, a second authorize skips the password.
/// Its cookie holds `id` and a secret; only the secret's SHA-256 is stored.
public struct BrowserSession: Sendable, Equatable {
    public enum Status: String, Sendable, Codable { case active, revoked }

    public var tenantID: String
    /// `bs_…`: shown to admins, the first half of the cookie.
    public var id: String
    /// SHA-256 (hex) of the cookie's secret half.
    public var secretHash: String
    public var userID: String
    public var acr: AuthenticationLevel
    public var amr: [String]
    public var authTime: Date
    public var createdAt: Date
    /// `createdAt + login_session_ttl`.
    public var expiresAt: Date
    public var status: Status
    public var ip: String?
    public var userAgent: String?

    public init(tenantID: String, id: String, secretHash: String, userID: String, acr: AuthenticationLevel, amr: [String], authTime: Date,
                createdAt: Date, expiresAt: Date, status: Status = .active, ip: String? = nil, userAgent: String? = nil) {
        self.tenantID = tenantID
        self.id = id
        self.secretHash = secretHash
        self.userID = userID
        self.acr = acr
        self.amr = amr
        self.authTime = authTime
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.status = status
        self.ip = ip
        self.userAgent = userAgent
    }

    /// Whether `id` has the form of a browser session id (it may come from a URL or a cookie).
    public static func isValidID(_ id: String) -> Bool {
        id.hasPrefix("bs_") && id.utf8.count <= 64 && id.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == 0x5F || $0 == 0x2D }
    }

    /// Whether it still signs the user in at `now`.
    public func isLive(at now: Date) -> Bool { status == .active && now < expiresAt }
}
