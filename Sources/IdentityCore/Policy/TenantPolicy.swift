import Foundation

/// A tenant's token and session rules (DESIGN.md "Policy"). Validated on write; a PUT replaces it whole,
/// fields left out take their defaults.
public struct TenantPolicy: Sendable, Equatable, Codable {
    public enum RefreshTokenFormat: String, Sendable, Codable, CaseIterable { case opaque, jwt }
    /// What reuse of a rotated refresh token revokes: its session (the family), or every session of the user.
    public enum ReuseResponse: String, Sendable, Codable, CaseIterable { case family, user }
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
    /// How many grace retries one rotated token may have within the window (0–100); beyond it is reuse.
    public var refreshReuseGraceCount: Int = 3
    /// The sliding idle window of a session, seconds.
    public var sessionIdleTTL: Int = 1_209_600
    /// The absolute cap of a session, seconds.
    public var sessionMaxTTL: Int = 7_776_000
    public var signingAlg: SigningAlgorithm = .es256
    public var stepUp: [StepUpRule] = []
    /// Which clients must prove a DPoP key on every grant (RFC 9449).
    public var dpop: DPoPRequirement = .optional
    /// Whether DPoP proofs must carry a server nonce (`use_dpop_nonce`, `DPoP-Nonce`).
    public var dpopNonce: Bool = false
    public var rateLimit = RateLimitPolicy()
    /// Whether authorization requests are taken only through PAR (`request_uri`).
    public var requirePAR: Bool = false
    /// How long a browser session (single sign-on) lives, seconds.
    public var loginSessionTTL: Int = 86_400
    /// The anomaly rules and the webhook (DESIGN.md "Metrics, alerts, incident response").
    public var alerts = AlertPolicy()
    public var reuseResponse: ReuseResponse = .family

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case accessTokenTTL = "access_token_ttl"
        case refreshTokenFormat = "refresh_token_format"
        case refreshTokenRotation = "refresh_token_rotation"
        case refreshReuseGrace = "refresh_reuse_grace"
        case refreshReuseGraceCount = "refresh_reuse_grace_count"
        case sessionIdleTTL = "session_idle_ttl"
        case sessionMaxTTL = "session_max_ttl"
        case signingAlg = "signing_alg"
        case stepUp = "step_up"
        case dpop
        case dpopNonce = "dpop_nonce"
        case rateLimit = "rate_limit"
        case requirePAR = "require_par"
        case loginSessionTTL = "login_session_ttl"
        case alerts
        case reuseResponse = "reuse_response"
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
        try field(.refreshReuseGraceCount, &refreshReuseGraceCount)
        try field(.sessionIdleTTL, &sessionIdleTTL)
        try field(.sessionMaxTTL, &sessionMaxTTL)
        try field(.signingAlg, &signingAlg)
        try field(.stepUp, &stepUp)
        try field(.dpop, &dpop)
        try field(.dpopNonce, &dpopNonce)
        try field(.rateLimit, &rateLimit)
        try field(.requirePAR, &requirePAR)
        try field(.loginSessionTTL, &loginSessionTTL)
        try field(.alerts, &alerts)
        try field(.reuseResponse, &reuseResponse)
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
        if let value = try body.integer(CodingKeys.refreshReuseGraceCount.rawValue, in: 0...100) { refreshReuseGraceCount = value }
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
        if let value = try body.bool(CodingKeys.dpopNonce.rawValue) { dpopNonce = value }
        if let limits = try body.object(CodingKeys.rateLimit.rawValue) { rateLimit = try RateLimitPolicy(validating: limits) }
        if let value = try body.bool(CodingKeys.requirePAR.rawValue) { requirePAR = value }
        if let value = try body.integer(CodingKeys.loginSessionTTL.rawValue, in: durations) { loginSessionTTL = value }
        if let value = try body.object(CodingKeys.alerts.rawValue) { alerts = try AlertPolicy(validating: value) }
        if let value = try body.string(CodingKeys.reuseResponse.rawValue) {
            guard let response = ReuseResponse(rawValue: value) else { throw AdminError.invalidField("reuse_response", "must be one of family, user") }
            reuseResponse = response
        }
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
