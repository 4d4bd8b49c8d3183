import Foundation

/// How much the endpoints that authenticate a client take, and how failed logins are slowed down (DESIGN.md
/// is silent; docs/decisions.md 18 and 41). Counted per node without Redis, across nodes with it. A limit of
/// 0 turns that limit off.
public struct RateLimitPolicy: Sendable, Equatable, Codable {
    /// Requests one client may make per `window` (token, introspection, revocation, logout).
    public var tokenRequestsPerClient: Int = 60_000
    /// Requests one client IP address may make per `window`.
    public var tokenRequestsPerIP: Int = 60_000
    /// The counting window of the two limits above, seconds.
    public var window: Int = 60
    /// Failed attempts (password, client secret) for one username or client from one IP address within
    /// `failedLoginWindow` before that IP is locked out for it.
    public var failedLoginsPerUser: Int = 10
    public var failedLoginWindow: Int = 900
    /// The refusal after reaching `failedLoginsPerUser`, seconds; doubled by each further failure, at most an hour.
    public var failedLoginBackoff: Int = 30
    /// Failed password attempts for one username from all addresses within `failedLoginWindow` before the
    /// username itself is locked out — for every address, but never longer than `usernameLockoutMax`.
    public var failedLoginsPerUsername: Int = 100
    /// The longest a username is locked out for every address, seconds.
    public var usernameLockoutMax: Int = 300

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case tokenRequestsPerClient = "token_requests_per_client"
        case tokenRequestsPerIP = "token_requests_per_ip"
        case window
        case failedLoginsPerUser = "failed_logins_per_user"
        case failedLoginWindow = "failed_login_window"
        case failedLoginBackoff = "failed_login_backoff"
        case failedLoginsPerUsername = "failed_logins_per_username"
        case usernameLockoutMax = "username_lockout_max"
    }

    static let maxBackoff = 3600

    /// Decodes a stored policy; fields it lacks (written by an older version) take their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func field(_ key: CodingKeys, _ value: inout Int) throws {
            if let decoded = try c.decodeIfPresent(Int.self, forKey: key) { value = decoded }
        }
        try field(.tokenRequestsPerClient, &tokenRequestsPerClient)
        try field(.tokenRequestsPerIP, &tokenRequestsPerIP)
        try field(.window, &window)
        try field(.failedLoginsPerUser, &failedLoginsPerUser)
        try field(.failedLoginWindow, &failedLoginWindow)
        try field(.failedLoginBackoff, &failedLoginBackoff)
        try field(.failedLoginsPerUsername, &failedLoginsPerUsername)
        try field(.usernameLockoutMax, &usernameLockoutMax)
    }

    init(validating body: JSONObjectReader) throws {
        try body.rejectUnknown(Set(CodingKeys.allCases.map(\.rawValue)))
        let counts = 0...100_000_000, seconds = 1...86_400
        if let value = try body.integer(CodingKeys.tokenRequestsPerClient.rawValue, in: counts) { tokenRequestsPerClient = value }
        if let value = try body.integer(CodingKeys.tokenRequestsPerIP.rawValue, in: counts) { tokenRequestsPerIP = value }
        if let value = try body.integer(CodingKeys.window.rawValue, in: seconds) { window = value }
        if let value = try body.integer(CodingKeys.failedLoginsPerUser.rawValue, in: 0...1000) { failedLoginsPerUser = value }
        if let value = try body.integer(CodingKeys.failedLoginWindow.rawValue, in: seconds) { failedLoginWindow = value }
        if let value = try body.integer(CodingKeys.failedLoginBackoff.rawValue, in: 1...Self.maxBackoff) { failedLoginBackoff = value }
        if let value = try body.integer(CodingKeys.failedLoginsPerUsername.rawValue, in: 0...1_000_000) { failedLoginsPerUsername = value }
        if let value = try body.integer(CodingKeys.usernameLockoutMax.rawValue, in: 1...Self.maxBackoff) { usernameLockoutMax = value }
    }

    /// How long an address is refused for a username (or client) after its `failures`-th failure there (nil: not yet).
    func lockout(afterFailures failures: Int) -> Int? {
        guard failedLoginsPerUser > 0, failures >= failedLoginsPerUser else { return nil }
        let doublings = min(failures - failedLoginsPerUser, 20)
        return min(failedLoginBackoff << doublings, Self.maxBackoff)
    }

    /// How long a username is refused everywhere after its `failures`-th failure from any address (nil: not
    /// yet): the same doubling, capped at `usernameLockoutMax`.
    func usernameLockout(afterFailures failures: Int) -> Int? {
        guard failedLoginsPerUsername > 0, failures >= failedLoginsPerUsername else { return nil }
        let doublings = min(failures - failedLoginsPerUsername, 20)
        return min(failedLoginBackoff << doublings, usernameLockoutMax)
    }
}
