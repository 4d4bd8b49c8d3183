import Foundation

/// One entry of a tenant's audit log. Never holds a token, secret or password: tokens appear as the first
/// 12 hex digits of their SHA-256.
public struct AuditEvent: Sendable, Equatable, Codable {
    /// The kinds of event recorded.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case tokenIssued = "token_issued"
        case tokenRefreshed = "token_refreshed"
        case refreshFailed = "refresh_failed"
        case refreshTokenReused = "refresh_token_reused"
        case tokenRevoked = "token_revoked"
        case sessionRevoked = "session_revoked"
        case loginFailed = "login_failed"
        case clientAuthFailed = "client_auth_failed"
        case stepUpRequired = "step_up_required"
        case policyChanged = "policy_changed"
        case keyRotated = "key_rotated"
        case tenantCreated = "tenant_created"
        case tenantUpdated = "tenant_updated"
        case clientCreated = "client_created"
        case clientUpdated = "client_updated"
        case clientDeleted = "client_deleted"
        case userCreated = "user_created"
        case userUpdated = "user_updated"
        case userDeleted = "user_deleted"
        case passwordChanged = "password_changed"
        case totpEnrolled = "totp_enrolled"
        case codeIssued = "code_issued"
        case codeReused = "code_reused"
        case codeExchangeFailed = "code_exchange_failed"
        case dpopProofRefused = "dpop_proof_refused"
        case consentGranted = "consent_granted"
        case consentRevoked = "consent_revoked"
        case browserSessionRevoked = "browser_session_revoked"
        /// An anomaly rule fired (`detail`: the rule and its figures), or reuse was detected.
        case securityAlert = "security_alert"
    }

    /// Assigned by the store, increasing; the `after` cursor of the events query.
    public var id: Int64
    public var tenantID: String
    public var kind: Kind
    public var time: Date
    public var userID: String?
    public var clientID: String?
    public var sessionID: String?
    public var tokenHashPrefix: String?
    public var ip: String?
    public var userAgent: String?
    /// A short machine-readable reason or detail (`wrong_client`, `idle_expired`), never a secret.
    public var detail: String?

    public init(id: Int64 = 0, tenantID: String, kind: Kind, time: Date, userID: String? = nil, clientID: String? = nil,
                sessionID: String? = nil, tokenHashPrefix: String? = nil, ip: String? = nil, userAgent: String? = nil,
                detail: String? = nil) {
        self.id = id
        self.tenantID = tenantID
        self.kind = kind
        self.time = time
        self.userID = userID
        self.clientID = clientID
        self.sessionID = sessionID
        self.tokenHashPrefix = tokenHashPrefix
        self.ip = ip
        self.userAgent = userAgent
        self.detail = detail
    }
}
