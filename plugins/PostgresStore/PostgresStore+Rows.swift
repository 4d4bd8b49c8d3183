import Foundation
import IdentityCore
import PostgresNIO

/// Decoding of stored rows into the core's records.
struct Row {
    let cells: PostgresRandomAccessRow
    init(_ row: PostgresRow) { cells = row.makeRandomAccess() }

    func string(_ column: String) throws -> String { try cells[column].decode(String.self) }
    func optionalString(_ column: String) throws -> String? { try cells[column].decode(String?.self) }
    func time(_ column: String) throws -> Date { try cells[column].decode(Date.self) }
    func optionalTime(_ column: String) throws -> Date? { try cells[column].decode(Date?.self) }
    func list(_ column: String) throws -> [String] { try cells[column].decode([String].self) }
    func value<T: RawRepresentable>(_ column: String, as: T.Type) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: try string(column)) else { throw StoreError.unavailable("stored \(column) is not a \(T.self)") }
        return value
    }

    func tenant() throws -> Tenant {
        Tenant(id: try string("id"), name: try string("name"), status: try value("status", as: Tenant.Status.self),
               policy: try JSONDecoder().decode(TenantPolicy.self, from: Data(try string("policy").utf8)),
               createdAt: try time("created_at"), updatedAt: try time("updated_at"))
    }

    func signingKey() throws -> SigningKey {
        SigningKey(tenantID: try string("tenant_id"), kid: try string("kid"), algorithm: try value("alg", as: SigningAlgorithm.self),
                   state: try value("state", as: SigningKey.State.self), publicJWK: try string("public_jwk"),
                   sealedPrivateKey: try string("sealed_private_key"), createdAt: try time("created_at"),
                   activatedAt: try optionalTime("activated_at"), retiredAt: try optionalTime("retired_at"),
                   verifyUntil: try optionalTime("verify_until"))
    }

    func client() throws -> Client {
        Client(tenantID: try string("tenant_id"), id: try string("id"), name: try string("name"), kind: try value("kind", as: Client.Kind.self),
               secretHash: try optionalString("secret_hash"), grantTypes: try list("grant_types").compactMap(GrantType.init(rawValue:)),
               redirectURIs: try list("redirect_uris"), scopes: try list("scopes"), createdAt: try time("created_at"),
               updatedAt: try time("updated_at"), secretRotatedAt: try optionalTime("secret_rotated_at"),
               postLogoutRedirectURIs: try list("post_logout_redirect_uris"), requireConsent: try cells["require_consent"].decode(Bool.self))
    }

    func user() throws -> User {
        User(tenantID: try string("tenant_id"), id: try string("id"), username: try string("username"), email: try optionalString("email"),
             passwordHash: try string("password_hash"), sealedTOTPSecret: try optionalString("sealed_totp_secret"),
             createdAt: try time("created_at"), updatedAt: try time("updated_at"))
    }

    /// A session from columns named as in `sessions`, or prefixed (`s_`) as `identity_find_refresh` returns them.
    func session(tenantID: String, id: String? = nil, prefix: String = "") throws -> Session {
        Session(tenantID: tenantID, id: try id ?? string("id"), userID: try string(prefix + "user_id"), clientID: try string(prefix + "client_id"),
                scopes: try list(prefix + "scopes"), acr: try value(prefix + "acr", as: AuthenticationLevel.self), amr: try list(prefix + "amr"),
                authTime: try time(prefix + "auth_time"), createdAt: try time(prefix + "created_at"),
                lastUsedAt: try time(prefix + "last_used_at"), idleExpiresAt: try time(prefix + "idle_expires_at"),
                absoluteExpiresAt: try time(prefix + "absolute_expires_at"), accessExpiresAt: try time(prefix + "access_expires_at"),
                status: try value(prefix + "status", as: Session.Status.self), revokedAt: try optionalTime(prefix + "revoked_at"),
                dpopJKT: try optionalString(prefix + "dpop_jkt"), ip: try optionalString(prefix + "ip"),
                userAgent: try optionalString(prefix + "user_agent"), browserSessionID: try optionalString(prefix + "browser_session_id"))
    }

    func refreshToken(tenantID: String) throws -> RefreshTokenRecord {
        RefreshTokenRecord(tenantID: tenantID, lookupKey: try string("lookup_key"), sessionID: try string("session_id"),
                           clientID: try string("client_id"), state: try value("state", as: RefreshTokenRecord.State.self),
                           createdAt: try time("created_at"), rotatedAt: try optionalTime("rotated_at"), parentKey: try optionalString("parent_key"),
                           graceUses: try cells["grace_uses"].decode(Int?.self) ?? 0, superseded: try cells["superseded"].decode(Bool?.self) ?? false)
    }

    func authorizationCode() throws -> AuthorizationCode {
        AuthorizationCode(tenantID: try string("tenant_id"), codeHash: try string("code_hash"), clientID: try string("client_id"),
                          redirectURI: try string("redirect_uri"), codeChallenge: try string("code_challenge"), nonce: try optionalString("nonce"),
                          scopes: try list("scopes"), userID: try string("user_id"), acr: try value("acr", as: AuthenticationLevel.self),
                          amr: try list("amr"), authTime: try time("auth_time"), dpopJKT: try optionalString("dpop_jkt"),
                          browserSessionID: try optionalString("browser_session_id"), createdAt: try time("created_at"),
                          expiresAt: try time("expires_at"), consumedAt: try optionalTime("consumed_at"), sessionID: try optionalString("session_id"))
    }

    func browserSession() throws -> BrowserSession {
        BrowserSession(tenantID: try string("tenant_id"), id: try string("id"), secretHash: try string("secret_hash"), userID: try string("user_id"),
                       acr: try value("acr", as: AuthenticationLevel.self), amr: try list("amr"), authTime: try time("auth_time"),
                       createdAt: try time("created_at"), expiresAt: try time("expires_at"), status: try value("status", as: BrowserSession.Status.self),
                       ip: try optionalString("ip"), userAgent: try optionalString("user_agent"))
    }

    func webhookDelivery() throws -> WebhookDelivery {
        WebhookDelivery(tenantID: try string("tenant_id"), id: try string("id"), body: try string("body"), createdAt: try time("created_at"),
                        attempts: Int(try cells["attempts"].decode(Int32.self)), nextAttemptAt: try time("next_attempt_at"))
    }

    func consent() throws -> Consent {
        Consent(tenantID: try string("tenant_id"), userID: try string("user_id"), clientID: try string("client_id"), scopes: try list("scopes"),
                grantedAt: try time("granted_at"))
    }

    func event() throws -> AuditEvent {
        AuditEvent(id: try cells["id"].decode(Int64.self), tenantID: try string("tenant_id"), kind: try value("kind", as: AuditEvent.Kind.self),
                   time: try time("time"), userID: try optionalString("user_id"), clientID: try optionalString("client_id"),
                   sessionID: try optionalString("session_id"), tokenHashPrefix: try optionalString("token_hash_prefix"),
                   ip: try optionalString("ip"), userAgent: try optionalString("user_agent"), detail: try optionalString("detail"))
    }

    func revocation() throws -> Revocation {
        Revocation(tenantID: try string("tenant_id"), kind: try value("kind", as: Revocation.Kind.self), value: try string("value"),
                   expiresAt: try time("expires_at"))
    }
}

extension PostgresConnection {
    /// The rows of `query`, decoded.
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [Row] {
        try await self.query(query, logger: logger).collect().map(Row.init)
    }

    /// Whether `query` returned any row (`… RETURNING` of an update or delete).
    func changed(_ query: PostgresQuery, logger: Logger) async throws -> Bool {
        try await !self.query(query, logger: logger).collect().isEmpty
    }
}
