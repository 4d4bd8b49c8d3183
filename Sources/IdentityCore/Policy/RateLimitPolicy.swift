import Foundation

/// How much the token endpoint takes (DESIGN.md is silent; docs/decisions.md 18). Counted per node without
/// Redis, across nodes with it. A limit of 0 turns that limit off.
public struct RateLimitPolicy: Sendable, Equatable, Codable {
    /// Token requests one client may make per `window`.
    public var tokenRequestsPerClient: Int = 60_000
    /// Token requests one client IP address may make per `window`.
    public var tokenRequestsPerIP: Int = 60_000
    /// The counting window of the two limits above, seconds.
    public var window: Int = 60
    /// Failed password attempts for one username within `failedLoginWindow` before password grants for it
    /// are refused.
    public var failedLoginsPerUser: Int = 10
    public var failedLoginWindow: Int = 900
    /// The refusal after reaching `failedLoginsPerUser`, seconds; doubled by each further failure, at most an hour.
    public var failedLoginBackoff: Int = 30

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case tokenRequestsPerClient = "token_requests_per_client"
        case tokenRequestsPerIP = "token_requests_per_ip"
        case window
        case failedLoginsPerUser = "failed_logins_per_user"
        case failedLoginWindow = "failed_login_window"
        case failedLoginBackoff = "failed_login_backoff"
    }

    static let maxBackoff = 3600

    init(validating body: JSONObjectReader) throws {
        try body.rejectUnknown(Set(CodingKeys.allCases.map(\.rawValue)))
        let counts = 0...100_000_000, seconds = 1...86_400
        if let value = try body.integer(CodingKeys.tokenRequestsPerClient.rawValue, in: counts) { tokenRequestsPerClient = value }
        if let value = try body.integer(CodingKeys.tokenRequestsPerIP.rawValue, in: counts) { tokenRequestsPerIP = value }
        if let value = try body.integer(CodingKeys.window.rawValue, in: seconds) { window = value }
        if let value = try body.integer(CodingKeys.failedLoginsPerUser.rawValue, in: 0...1000) { failedLoginsPerUser = value }
        if let value = try body.integer(CodingKeys.failedLoginWindow.rawValue, in: seconds) { failedLoginWindow = value }
        if let value = try body.integer(CodingKeys.failedLoginBackoff.rawValue, in: 1...Self.maxBackoff) { failedLoginBackoff = value }
    }

    /// How long password grants for a username are refused after its `failures`-th failure (nil: not yet).
    func lockout(afterFailures failures: Int) -> Int? {
        guard failedLoginsPerUser > 0, failures >= failedLoginsPerUser else { return nil }
        let doublings = min(failures - failedLoginsPerUser, 20)
        return min(failedLoginBackoff << doublings, Self.maxBackoff)
    }
}
