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

/// Who made a request: carried into sessions and audit events.
public struct RequestOrigin: Sendable, Equatable {
    public var ip: String?
    public var userAgent: String?
    public init(ip: String? = nil, userAgent: String? = nil) {
        self.ip = ip
        self.userAgent = userAgent.map { String($0.prefix(512)) }
    }
}

extension AuditEvent {
    /// `events` as one JSON array of objects (`tenant_id`, `kind`, `time_ms`, `user_id`, `client_id`,
    /// `session_id`, `token_hash_prefix`, `ip`, `user_agent`, `detail`): how the SQL stores write a batch in
    /// one statement.
    public static func batchJSON(_ events: [AuditEvent]) throws -> String {
        var writer = JSONWriter(capacity: events.count * 256)
        writer.beginArray()
        for e in events {
            writer.beginObject()
            writer.field("tenant_id", e.tenantID)
            writer.field("kind", e.kind.rawValue)
            writer.field("time_ms", e.time.millisecondsSince1970)
            writer.field("user_id", e.userID, null: true)
            writer.field("client_id", e.clientID, null: true)
            writer.field("session_id", e.sessionID, null: true)
            writer.field("token_hash_prefix", e.tokenHashPrefix, null: true)
            writer.field("ip", e.ip, null: true)
            writer.field("user_agent", e.userAgent, null: true)
            writer.field("detail", e.detail, null: true)
            writer.endObject()
        }
        writer.endArray()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
