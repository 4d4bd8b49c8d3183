import Foundation

/// What the admin API shows of each resource. Encoded with snake_case keys and ISO 8601 times; never a
/// hash, sealed key or secret (a client secret or admin key appears once, in the creating response).
public enum AdminView {
    public struct TenantView: Encodable, Sendable {
        var id: String, name: String, status: String, policy: TenantPolicy, createdAt: Date, updatedAt: Date
        init(_ t: Tenant) {
            id = t.id; name = t.name; status = t.status.rawValue; policy = t.policy; createdAt = t.createdAt; updatedAt = t.updatedAt
        }
    }

    public struct CreatedTenant: Encodable, Sendable {
        var tenant: TenantView
        var adminKey: String
    }

    /// A tenant admin key, shown once.
    public struct AdminKey: Encodable, Sendable {
        var adminKey: String
    }

    /// A tenant's alert webhook secret, shown once.
    public struct AlertSecret: Encodable, Sendable {
        public var secret: String
        var createdAt: Date
    }

    public struct KeyView: Encodable, Sendable {
        var kid: String, alg: String, state: String, publishedInJwks: Bool
        var createdAt: Date, activatedAt: Date?, retiredAt: Date?, verifyUntil: Date?
        var publicJwk: JSONValue
        init(_ k: SigningKey, now: Date) {
            kid = k.kid; alg = k.algorithm.rawValue; state = k.state.rawValue; publishedInJwks = k.isPublished(at: now)
            createdAt = k.createdAt; activatedAt = k.activatedAt; retiredAt = k.retiredAt; verifyUntil = k.verifyUntil
            publicJwk = (try? JSONValue.parse(Array(k.publicJWK.utf8))) ?? .null
        }
    }

    public struct ClientView: Encodable, Sendable {
        var clientId: String, name: String, type: String, grantTypes: [String], redirectUris: [String], postLogoutRedirectUris: [String]
        var scopes: [String], requireConsent: Bool
        var createdAt: Date, updatedAt: Date
        var clientSecret: String?
        init(_ c: Client, secret: String? = nil) {
            clientId = c.id; name = c.name; type = c.kind.rawValue; grantTypes = c.grantTypes.map(\.rawValue)
            redirectUris = c.redirectURIs; postLogoutRedirectUris = c.postLogoutRedirectURIs; scopes = c.scopes; requireConsent = c.requireConsent
            createdAt = c.createdAt; updatedAt = c.updatedAt; clientSecret = secret
        }
    }

    public struct ConsentView: Encodable, Sendable {
        var clientId: String, scopes: [String], grantedAt: Date
        init(_ c: Consent) { clientId = c.clientID; scopes = c.scopes; grantedAt = c.grantedAt }
    }

    public struct BrowserSessionView: Encodable, Sendable {
        var id: String, userId: String, acr: String, amr: [String], authTime: Date, createdAt: Date, expiresAt: Date, status: String
        var ip: String?, userAgent: String?
        init(_ b: BrowserSession) {
            id = b.id; userId = b.userID; acr = b.acr.rawValue; amr = b.amr; authTime = b.authTime; createdAt = b.createdAt
            expiresAt = b.expiresAt; status = b.status.rawValue; ip = b.ip; userAgent = b.userAgent
        }
    }

    public struct UserView: Encodable, Sendable {
        var id: String, username: String, email: String?, totpEnrolled: Bool, createdAt: Date, updatedAt: Date
        init(_ u: User) {
            id = u.id; username = u.username; email = u.email; totpEnrolled = u.sealedTOTPSecret != nil
            createdAt = u.createdAt; updatedAt = u.updatedAt
        }
    }

    public struct TOTPEnrollment: Encodable, Sendable {
        var secret: String
        var otpauthUri: String
    }

    public struct SessionView: Encodable, Sendable {
        var sid: String, userId: String, clientId: String, scopes: [String], acr: String, amr: [String]
        var authTime: Date, createdAt: Date, lastUsedAt: Date, idleExpiresAt: Date, absoluteExpiresAt: Date
        var status: String, revokedAt: Date?, dpopJkt: String?, ip: String?, userAgent: String?
        init(_ s: Session) {
            sid = s.id; userId = s.userID; clientId = s.clientID; scopes = s.scopes; acr = s.acr.rawValue; amr = s.amr
            authTime = s.authTime; createdAt = s.createdAt; lastUsedAt = s.lastUsedAt; idleExpiresAt = s.idleExpiresAt
            absoluteExpiresAt = s.absoluteExpiresAt; status = s.status.rawValue; revokedAt = s.revokedAt; dpopJkt = s.dpopJKT
            ip = s.ip; userAgent = s.userAgent
        }
    }

    public struct RevokedSessions: Encodable, Sendable {
        var revoked: [String]
    }

    /// What a bulk revocation ended; `more`: it stopped at its limit, call again.
    public struct BulkRevocation: Encodable, Sendable {
        public var revoked: Int
        public var more: Bool
    }

    public struct RevokedConsents: Encodable, Sendable {
        var revoked: [String]
    }

    public struct EventView: Encodable, Sendable {
        var id: Int64, type: String, time: Date, userId: String?, clientId: String?, sessionId: String?
        var tokenHashPrefix: String?, ip: String?, userAgent: String?, detail: String?
        init(_ e: AuditEvent) {
            id = e.id; type = e.kind.rawValue; time = e.time; userId = e.userID; clientId = e.clientID; sessionId = e.sessionID
            tokenHashPrefix = e.tokenHashPrefix; ip = e.ip; userAgent = e.userAgent; detail = e.detail
        }
    }

    public struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
        var items: [Item]
        var next: Int64?
    }

    public struct List<Item: Encodable & Sendable>: Encodable, Sendable {
        var items: [Item]
    }

    /// The encoder every admin response goes through.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(iso8601.format(date))
        }
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    static let iso8601 = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
