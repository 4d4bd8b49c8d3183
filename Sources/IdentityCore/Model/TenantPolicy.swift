import Foundation

/// A tenant's token and session rules (DESIGN.md "Policy"). Validated on write; a PUT replaces it whole,
/// fields left out take their defaults.
public struct TenantPolicy: Sendable, Equatable, Codable {
    public enum RefreshTokenFormat: String, Sendable, Codable, CaseIterable { case opaque, jwt }
    public enum DPoPRequirement: String, Sendable, Codable, CaseIterable {
        case optional
        case requiredForPublicClients = "required_for_public_clients"
        case required
    }

    /// Seconds an access token lives.
    public var accessTokenTTL: Int = 600
    public var refreshTokenFormat: RefreshTokenFormat = .opaque
    public var refreshTokenRotation: Bool = true
    /// Seconds after a rotation during which the rotated token may be presented again (0 disables it).
    public var refreshReuseGrace: Int = 10
    /// The sliding idle window of a session, seconds.
    public var sessionIdleTTL: Int = 1_209_600
    /// The absolute cap of a session, seconds.
    public var sessionMaxTTL: Int = 7_776_000
    public var signingAlg: SigningAlgorithm = .es256
    public var stepUp: [StepUpRule] = []
    public var dpop: DPoPRequirement = .optional
    public var rateLimit = RateLimitPolicy()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case accessTokenTTL = "access_token_ttl"
        case refreshTokenFormat = "refresh_token_format"
        case refreshTokenRotation = "refresh_token_rotation"
        case refreshReuseGrace = "refresh_reuse_grace"
        case sessionIdleTTL = "session_idle_ttl"
        case sessionMaxTTL = "session_max_ttl"
        case signingAlg = "signing_alg"
        case stepUp = "step_up"
        case dpop
        case rateLimit = "rate_limit"
    }

    /// Decodes a stored policy; fields it lacks (written by an older version) take their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func field<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let decoded = try c.decodeIfPresent(T.self, forKey: key) { value = decoded }
        }
        try field(.accessTokenTTL, &accessTokenTTL)
        try field(.refreshTokenFormat, &refreshTokenFormat)
        try field(.refreshTokenRotation, &refreshTokenRotation)
        try field(.refreshReuseGrace, &refreshReuseGrace)
        try field(.sessionIdleTTL, &sessionIdleTTL)
        try field(.sessionMaxTTL, &sessionMaxTTL)
        try field(.signingAlg, &signingAlg)
        try field(.stepUp, &stepUp)
        try field(.dpop, &dpop)
        try field(.rateLimit, &rateLimit)
    }

    /// The largest duration a policy accepts: ten years.
    static let maxDuration = 315_360_000

    /// Builds a policy from a JSON body, failing with `AdminError.invalidField` naming the first bad field.
    public init(validating json: JSONValue) throws {
        let body = try JSONObjectReader(json)
        try body.rejectUnknown(Set(CodingKeys.allCases.map(\.rawValue)))
        let durations = 1...Self.maxDuration
        if let value = try body.integer(CodingKeys.accessTokenTTL.rawValue, in: durations) { accessTokenTTL = value }
        if let value = try body.string(CodingKeys.refreshTokenFormat.rawValue) {
            guard let format = RefreshTokenFormat(rawValue: value) else {
                throw AdminError.invalidField("refresh_token_format", "must be one of opaque, jwt")
            }
            refreshTokenFormat = format
        }
        if let value = try body.bool(CodingKeys.refreshTokenRotation.rawValue) { refreshTokenRotation = value }
        if let value = try body.integer(CodingKeys.refreshReuseGrace.rawValue, in: 0...60) { refreshReuseGrace = value }
        if let value = try body.integer(CodingKeys.sessionIdleTTL.rawValue, in: durations) { sessionIdleTTL = value }
        if let value = try body.integer(CodingKeys.sessionMaxTTL.rawValue, in: durations) { sessionMaxTTL = value }
        if let value = try body.string(CodingKeys.signingAlg.rawValue) {
            guard let alg = SigningAlgorithm(rawValue: value) else {
                throw AdminError.invalidField("signing_alg", "must be one of ES256, EdDSA, RS256")
            }
            signingAlg = alg
        }
        if let rules = try body.objects(CodingKeys.stepUp.rawValue) {
            stepUp = try rules.map(StepUpRule.init(validating:))
            var seen = Set<String>()
            for (index, rule) in stepUp.enumerated() where !seen.insert(rule.scope).inserted {
                throw AdminError.invalidField("step_up[\(index)].scope", "appears twice")
            }
        }
        if let value = try body.string(CodingKeys.dpop.rawValue) {
            guard let requirement = DPoPRequirement(rawValue: value) else {
                throw AdminError.invalidField("dpop", "must be one of optional, required_for_public_clients, required")
            }
            dpop = requirement
        }
        if let limits = try body.object(CodingKeys.rateLimit.rawValue) { rateLimit = try RateLimitPolicy(validating: limits) }
        guard sessionIdleTTL <= sessionMaxTTL else {
            throw AdminError.invalidField("session_idle_ttl", "must not exceed session_max_ttl")
        }
    }

    /// The step-up rule for `scope`, if it is a sensitive scope.
    public func stepUpRule(for scope: String) -> StepUpRule? { stepUp.first { $0.scope == scope } }

    /// How long a retired signing key must stay in the JWKS: until every token it may have signed has expired.
    public var keyVerificationWindow: Int {
        refreshTokenFormat == .jwt ? max(accessTokenTTL, sessionMaxTTL) : accessTokenTTL
    }
}

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

/// A sensitive scope: granted only when the session's `acr` is at least `acr` and it authenticated at most
/// `maxAge` seconds ago.
public struct StepUpRule: Sendable, Equatable, Codable {
    public var scope: String
    public var acr: AuthenticationLevel
    public var maxAge: Int

    public init(scope: String, acr: AuthenticationLevel, maxAge: Int) {
        self.scope = scope
        self.acr = acr
        self.maxAge = maxAge
    }

    enum CodingKeys: String, CodingKey {
        case scope, acr
        case maxAge = "max_age"
    }

    init(validating body: JSONObjectReader) throws {
        try body.rejectUnknown(["scope", "acr", "max_age"])
        let scope = try body.requiredString("scope")
        guard Scope.isValidToken(scope) else { throw AdminError.invalidField(body.name("scope"), "is not a valid scope") }
        guard let acrText = try body.string("acr") else { throw AdminError.invalidField(body.name("acr"), "is required") }
        guard let acr = AuthenticationLevel(rawValue: acrText) else {
            throw AdminError.invalidField(body.name("acr"), "must be one of pwd, mfa")
        }
        guard let maxAge = try body.integer("max_age", in: 1...TenantPolicy.maxDuration) else {
            throw AdminError.invalidField(body.name("max_age"), "is required")
        }
        self.init(scope: scope, acr: acr, maxAge: maxAge)
    }
}

/// How strongly a session authenticated: `pwd` (password) < `mfa` (password + TOTP).
public enum AuthenticationLevel: String, Sendable, Codable, Comparable, CaseIterable {
    case pwd, mfa

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
    private var rank: Int { self == .pwd ? 0 : 1 }

    /// The `amr` values (RFC 8176) that go with this level.
    public var methods: [String] { self == .pwd ? ["pwd"] : ["pwd", "otp", "mfa"] }
}

/// The signature algorithms a tenant may sign with.
public enum SigningAlgorithm: String, Sendable, Codable, CaseIterable {
    case es256 = "ES256"
    case edDSA = "EdDSA"
    case rs256 = "RS256"
}
