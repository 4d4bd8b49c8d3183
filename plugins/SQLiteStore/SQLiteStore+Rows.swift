import Foundation
import IdentityCore
import SQLiteNIO

/// Binding and decoding helpers: times as integer milliseconds, lists as JSON text.
enum Bind {
    static func text(_ value: String?) -> SQLiteData { value.map { .text($0) } ?? .null }
    static func time(_ value: Date?) -> SQLiteData { value.map { .integer(Int($0.millisecondsSince1970)) } ?? .null }
    static func list(_ value: [String]) -> SQLiteData { .text(JSONList.encode(value)) }
}

/// `[String]` as compact JSON, the way the SQLite and PostgreSQL plugins both store lists.
enum JSONList {
    static func encode(_ value: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(value)) ?? Data("[]".utf8), as: UTF8.self)
    }
    static func decode(_ text: String?) -> [String] {
        guard let text else { return [] }
        if let plain = decodePlain(text) { return plain }
        return (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }

    /// The lists this store writes (`["openid","api"]`: no escapes, no spaces) without `JSONDecoder`, which
    /// was a share of every refresh; nil for anything else, which goes to `JSONDecoder`.
    static func decodePlain(_ text: String) -> [String]? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]"),
              !bytes.contains(UInt8(ascii: "\\")) else { return nil }
        var values: [String] = []
        var index = 1
        while index < bytes.count - 1 {
            if !values.isEmpty {
                guard bytes[index] == UInt8(ascii: ",") else { return nil }
                index += 1
            }
            guard index < bytes.count - 1, bytes[index] == UInt8(ascii: "\"") else { return nil }
            guard let end = bytes[(index + 1)...].firstIndex(of: UInt8(ascii: "\"")), end < bytes.count - 1 else { return nil }
            values.append(String(decoding: bytes[(index + 1)..<end], as: UTF8.self))
            index = end + 1
        }
        return values
    }
}

struct RowDecodingError: Error, CustomStringConvertible {
    let column: String
    var description: String { "stored row has a bad or missing \(column)" }
}

extension StoredRow {
    func string(_ column: String) throws -> String {
        guard let value = self.column(column)?.string else { throw RowDecodingError(column: column) }
        return value
    }
    func optionalString(_ column: String) -> String? {
        guard let data = self.column(column), !data.isNull else { return nil }
        return data.string
    }
    func time(_ column: String) throws -> Date {
        guard let value = self.column(column)?.integer else { throw RowDecodingError(column: column) }
        return Date(millisecondsSince1970: Int64(value))
    }
    func optionalTime(_ column: String) -> Date? {
        guard let data = self.column(column), !data.isNull, let value = data.integer else { return nil }
        return Date(millisecondsSince1970: Int64(value))
    }
    func list(_ column: String) -> [String] { JSONList.decode(optionalString(column)) }
    func value<T: RawRepresentable>(_ column: String, as: T.Type) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: try string(column)) else { throw RowDecodingError(column: column) }
        return value
    }

    func tenant() throws -> Tenant {
        let policy = try JSONDecoder().decode(TenantPolicy.self, from: Data(try string("policy").utf8))
        return Tenant(id: try string("id"), name: try string("name"), status: try value("status", as: Tenant.Status.self), policy: policy,
                      createdAt: try time("created_at"), updatedAt: try time("updated_at"))
    }

    func signingKey() throws -> SigningKey {
        SigningKey(tenantID: try string("tenant_id"), kid: try string("kid"), algorithm: try value("alg", as: SigningAlgorithm.self),
                   state: try value("state", as: SigningKey.State.self), publicJWK: try string("public_jwk"),
                   sealedPrivateKey: try string("sealed_private_key"), createdAt: try time("created_at"),
                   activatedAt: optionalTime("activated_at"), retiredAt: optionalTime("retired_at"), verifyUntil: optionalTime("verify_until"))
    }

    func client() throws -> Client {
        Client(tenantID: try string("tenant_id"), id: try string("id"), name: try string("name"), kind: try value("kind", as: Client.Kind.self),
               secretHash: optionalString("secret_hash"), grantTypes: list("grant_types").compactMap(GrantType.init(rawValue:)),
               redirectURIs: list("redirect_uris"), scopes: list("scopes"), createdAt: try time("created_at"), updatedAt: try time("updated_at"),
               secretRotatedAt: optionalTime("secret_rotated_at"), postLogoutRedirectURIs: list("post_logout_redirect_uris"),
               requireConsent: (column("require_consent")?.integer ?? 0) != 0)
    }

    func user() throws -> User {
        User(tenantID: try string("tenant_id"), id: try string("id"), username: try string("username"), email: optionalString("email"),
             passwordHash: try string("password_hash"), sealedTOTPSecret: optionalString("sealed_totp_secret"),
             createdAt: try time("created_at"), updatedAt: try time("updated_at"))
    }

    /// A session from columns named as in `sessions`, optionally prefixed (`s_`) in joins.
    func session(prefix: String = "") throws -> Session {
        Session(tenantID: try string(prefix + "tenant_id"), id: try string(prefix + "id"), userID: try string(prefix + "user_id"),
                clientID: try string(prefix + "client_id"), scopes: list(prefix + "scopes"),
                acr: try value(prefix + "acr", as: AuthenticationLevel.self), amr: list(prefix + "amr"),
                authTime: try time(prefix + "auth_time"), createdAt: try time(prefix + "created_at"),
                lastUsedAt: try time(prefix + "last_used_at"), idleExpiresAt: try time(prefix + "idle_expires_at"),
                absoluteExpiresAt: try time(prefix + "absolute_expires_at"), accessExpiresAt: try time(prefix + "access_expires_at"),
                status: try value(prefix + "status", as: Session.Status.self), revokedAt: optionalTime(prefix + "revoked_at"),
                dpopJKT: optionalString(prefix + "dpop_jkt"), ip: optionalString(prefix + "ip"), userAgent: optionalString(prefix + "user_agent"),
                browserSessionID: optionalString(prefix + "browser_session_id"))
    }

    func refreshToken() throws -> RefreshTokenRecord {
        RefreshTokenRecord(tenantID: try string("tenant_id"), lookupKey: try string("lookup_key"), sessionID: try string("session_id"),
                           clientID: try string("client_id"), state: try value("state", as: RefreshTokenRecord.State.self),
                           createdAt: try time("created_at"), rotatedAt: optionalTime("rotated_at"), parentKey: optionalString("parent_key"),
                           graceUses: column("grace_uses")?.integer ?? 0, superseded: (column("superseded")?.integer ?? 0) != 0)
    }

    func event() throws -> AuditEvent {
        guard let id = column("id")?.integer else { throw RowDecodingError(column: "id") }
        return AuditEvent(id: Int64(id), tenantID: try string("tenant_id"), kind: try value("kind", as: AuditEvent.Kind.self),
                          time: try time("time"), userID: optionalString("user_id"), clientID: optionalString("client_id"),
                          sessionID: optionalString("session_id"), tokenHashPrefix: optionalString("token_hash_prefix"),
                          ip: optionalString("ip"), userAgent: optionalString("user_agent"), detail: optionalString("detail"))
    }

    func authorizationCode() throws -> AuthorizationCode {
        AuthorizationCode(tenantID: try string("tenant_id"), codeHash: try string("code_hash"), clientID: try string("client_id"),
                          redirectURI: try string("redirect_uri"), codeChallenge: try string("code_challenge"), nonce: optionalString("nonce"),
                          scopes: list("scopes"), userID: try string("user_id"), acr: try value("acr", as: AuthenticationLevel.self),
                          amr: list("amr"), authTime: try time("auth_time"), dpopJKT: optionalString("dpop_jkt"),
                          browserSessionID: optionalString("browser_session_id"), createdAt: try time("created_at"),
                          expiresAt: try time("expires_at"), consumedAt: optionalTime("consumed_at"), sessionID: optionalString("session_id"))
    }

    func browserSession() throws -> BrowserSession {
        BrowserSession(tenantID: try string("tenant_id"), id: try string("id"), secretHash: try string("secret_hash"), userID: try string("user_id"),
                       acr: try value("acr", as: AuthenticationLevel.self), amr: list("amr"), authTime: try time("auth_time"),
                       createdAt: try time("created_at"), expiresAt: try time("expires_at"), status: try value("status", as: BrowserSession.Status.self),
                       ip: optionalString("ip"), userAgent: optionalString("user_agent"))
    }

    func webhookDelivery() throws -> WebhookDelivery {
        WebhookDelivery(tenantID: try string("tenant_id"), id: try string("id"), body: try string("body"), createdAt: try time("created_at"),
                        attempts: Int(column("attempts")?.integer ?? 0), nextAttemptAt: try time("next_attempt_at"))
    }

    func consent() throws -> Consent {
        Consent(tenantID: try string("tenant_id"), userID: try string("user_id"), clientID: try string("client_id"), scopes: list("scopes"),
                grantedAt: try time("granted_at"))
    }
}
