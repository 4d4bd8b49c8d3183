import Foundation
import IdentityCore
import PostgresNIO

extension PostgresStore {
    // MARK: authorization codes

    public func saveCode(_ c: AuthorizationCode) async throws {
        let logger = self.logger
        try await inTenant(c.tenantID) { db in
            try await db.query("""
                INSERT INTO authorization_codes (tenant_id, code_hash, client_id, redirect_uri, code_challenge, nonce, scopes, user_id, acr, amr,
                  auth_time, dpop_jkt, browser_session_id, created_at, expires_at, consumed_at, session_id)
                VALUES (\(c.tenantID), \(c.codeHash), \(c.clientID), \(c.redirectURI), \(c.codeChallenge), \(c.nonce), \(c.scopes), \(c.userID),
                  \(c.acr.rawValue), \(c.amr), \(c.authTime), \(c.dpopJKT), \(c.browserSessionID), \(c.createdAt), \(c.expiresAt),
                  \(c.consumedAt), \(c.sessionID))
                """, logger: logger)
        }
    }

    /// The compare-and-set (an UPDATE that only an unconsumed, unexpired code matches: of racing calls the
    /// row lock lets one match) and, when it lost, the read of the used code, in one transaction.
    public func consumeCode(tenantID: String, codeHash: String, now: Date) async throws -> CodeConsumption {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            if let row = try await db.rows("""
                UPDATE authorization_codes SET consumed_at = \(now)
                WHERE tenant_id = \(tenantID) AND code_hash = \(codeHash) AND consumed_at IS NULL AND expires_at > \(now) RETURNING *
                """, logger: logger).first {
                return .consumed(try row.authorizationCode())
            }
            guard let row = try await db.rows("""
                SELECT * FROM authorization_codes WHERE tenant_id = \(tenantID) AND code_hash = \(codeHash) AND consumed_at IS NOT NULL
                """, logger: logger).first else { return .unknown }
            return .alreadyConsumed(try row.authorizationCode())
        }
    }

    public func attachSession(tenantID: String, codeHash: String, sessionID: String) async throws {
        let logger = self.logger
        try await inTenant(tenantID) { db in
            try await db.query("""
                UPDATE authorization_codes SET session_id = \(sessionID) WHERE tenant_id = \(tenantID) AND code_hash = \(codeHash)
                """, logger: logger)
        }
    }

    // MARK: browser sessions

    public func createBrowserSession(_ b: BrowserSession) async throws {
        let logger = self.logger
        try await inTenant(b.tenantID) { db in
            try await db.query("""
                INSERT INTO browser_sessions (tenant_id, id, secret_hash, user_id, acr, amr, auth_time, created_at, expires_at, status, ip, user_agent)
                VALUES (\(b.tenantID), \(b.id), \(b.secretHash), \(b.userID), \(b.acr.rawValue), \(b.amr), \(b.authTime), \(b.createdAt),
                  \(b.expiresAt), \(b.status.rawValue), \(b.ip), \(b.userAgent))
                """, logger: logger)
        }
    }

    public func browserSession(tenantID: String, id: String) async throws -> BrowserSession? {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("SELECT * FROM browser_sessions WHERE tenant_id = \(tenantID) AND id = \(id)", logger: logger).first?.browserSession()
        }
    }

    public func browserSessions(tenantID: String, userID: String, now: Date) async throws -> [BrowserSession] {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("""
                SELECT * FROM browser_sessions WHERE tenant_id = \(tenantID) AND user_id = \(userID) AND status = 'active' AND expires_at > \(now)
                ORDER BY created_at DESC, id DESC
                """, logger: logger).map { try $0.browserSession() }
        }
    }

    public func revokeBrowserSessions(tenantID: String, userID: String?, id: String?, at now: Date) async throws -> [String] {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("""
                UPDATE browser_sessions SET status = 'revoked'
                WHERE tenant_id = \(tenantID) AND status = 'active' AND (\(userID)::text IS NULL OR user_id = \(userID))
                  AND (\(id)::text IS NULL OR id = \(id))
                RETURNING id
                """, logger: logger).map { try $0.string("id") }.sorted()
        }
    }

    // MARK: consents

    public func consent(tenantID: String, userID: String, clientID: String) async throws -> Consent? {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("""
                SELECT * FROM consents WHERE tenant_id = \(tenantID) AND user_id = \(userID) AND client_id = \(clientID)
                """, logger: logger).first?.consent()
        }
    }

    public func saveConsent(_ c: Consent) async throws {
        let logger = self.logger
        try await inTenant(c.tenantID) { db in
            try await db.query("""
                INSERT INTO consents (tenant_id, user_id, client_id, scopes, granted_at)
                VALUES (\(c.tenantID), \(c.userID), \(c.clientID), \(c.scopes), \(c.grantedAt))
                ON CONFLICT (tenant_id, user_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at
                """, logger: logger)
        }
    }

    public func consents(tenantID: String, userID: String) async throws -> [Consent] {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("SELECT * FROM consents WHERE tenant_id = \(tenantID) AND user_id = \(userID) ORDER BY client_id", logger: logger)
                .map { try $0.consent() }
        }
    }

    public func revokeConsents(tenantID: String, userID: String, clientID: String?) async throws -> [String] {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("""
                DELETE FROM consents WHERE tenant_id = \(tenantID) AND user_id = \(userID) AND (\(clientID)::text IS NULL OR client_id = \(clientID))
                RETURNING client_id
                """, logger: logger).map { try $0.string("client_id") }.sorted()
        }
    }
}
