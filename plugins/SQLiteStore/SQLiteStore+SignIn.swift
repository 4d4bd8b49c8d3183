import Foundation
import IdentityCore
import SQLiteNIO

extension SQLiteStore {
    // MARK: authorization codes

    public func saveCode(_ code: AuthorizationCode) async throws {
        try await unique("authorization code") {
            try await write(
                """
                INSERT INTO authorization_codes (tenant_id, code_hash, client_id, redirect_uri, code_challenge, nonce, scopes, user_id, acr, amr,
                  auth_time, dpop_jkt, browser_session_id, created_at, expires_at, consumed_at, session_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(code.tenantID), .text(code.codeHash), .text(code.clientID), .text(code.redirectURI), .text(code.codeChallenge),
                 Bind.text(code.nonce), Bind.list(code.scopes), .text(code.userID), .text(code.acr.rawValue), Bind.list(code.amr),
                 Bind.time(code.authTime), Bind.text(code.dpopJKT), Bind.text(code.browserSessionID), Bind.time(code.createdAt),
                 Bind.time(code.expiresAt), Bind.time(code.consumedAt), Bind.text(code.sessionID)])
        }
    }

    /// The compare-and-set and the read of a used code in one transaction on the writer.
    public func consumeCode(tenantID: String, codeHash: String, now: Date) async throws -> CodeConsumption {
        try await transaction { db in
            if let row = try db.query(
                """
                UPDATE authorization_codes SET consumed_at = ?
                WHERE tenant_id = ? AND code_hash = ? AND consumed_at IS NULL AND expires_at > ? RETURNING *
                """, [Bind.time(now), .text(tenantID), .text(codeHash), Bind.time(now)]).first {
                return .consumed(try row.authorizationCode())
            }
            guard let row = try db.query("SELECT * FROM authorization_codes WHERE tenant_id = ? AND code_hash = ? AND consumed_at IS NOT NULL",
                                         [.text(tenantID), .text(codeHash)]).first else { return .unknown }
            return .alreadyConsumed(try row.authorizationCode())
        }
    }

    public func attachSession(tenantID: String, codeHash: String, sessionID: String) async throws {
        try await write("UPDATE authorization_codes SET session_id = ? WHERE tenant_id = ? AND code_hash = ?",
                        [.text(sessionID), .text(tenantID), .text(codeHash)])
    }

    // MARK: browser sessions

    public func createBrowserSession(_ session: BrowserSession) async throws {
        try await write(
            """
            INSERT INTO browser_sessions (tenant_id, id, secret_hash, user_id, acr, amr, auth_time, created_at, expires_at, status, ip, user_agent)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(session.tenantID), .text(session.id), .text(session.secretHash), .text(session.userID), .text(session.acr.rawValue),
             Bind.list(session.amr), Bind.time(session.authTime), Bind.time(session.createdAt), Bind.time(session.expiresAt),
             .text(session.status.rawValue), Bind.text(session.ip), Bind.text(session.userAgent)])
    }

    public func browserSession(tenantID: String, id: String) async throws -> BrowserSession? {
        try await read("SELECT * FROM browser_sessions WHERE tenant_id = ? AND id = ?", [.text(tenantID), .text(id)]).first?.browserSession()
    }

    public func browserSessions(tenantID: String, userID: String, now: Date) async throws -> [BrowserSession] {
        try await read(
            """
            SELECT * FROM browser_sessions WHERE tenant_id = ? AND user_id = ? AND status = 'active' AND expires_at > ?
            ORDER BY created_at DESC, id DESC
            """, [.text(tenantID), .text(userID), Bind.time(now)]).map { try $0.browserSession() }
    }

    public func revokeBrowserSessions(tenantID: String, userID: String?, id: String?, at now: Date) async throws -> [String] {
        try await write(
            """
            UPDATE browser_sessions SET status = 'revoked'
            WHERE tenant_id = ? AND status = 'active' AND (? IS NULL OR user_id = ?) AND (? IS NULL OR id = ?) RETURNING id
            """, [.text(tenantID), Bind.text(userID), Bind.text(userID), Bind.text(id), Bind.text(id)]).map { try $0.string("id") }.sorted()
    }

    // MARK: consents

    public func consent(tenantID: String, userID: String, clientID: String) async throws -> Consent? {
        try await read("SELECT * FROM consents WHERE tenant_id = ? AND user_id = ? AND client_id = ?",
                       [.text(tenantID), .text(userID), .text(clientID)]).first?.consent()
    }

    public func saveConsent(_ consent: Consent) async throws {
        try await write(
            """
            INSERT INTO consents (tenant_id, user_id, client_id, scopes, granted_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (tenant_id, user_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at
            """, [.text(consent.tenantID), .text(consent.userID), .text(consent.clientID), Bind.list(consent.scopes), Bind.time(consent.grantedAt)])
    }

    public func consents(tenantID: String, userID: String) async throws -> [Consent] {
        try await read("SELECT * FROM consents WHERE tenant_id = ? AND user_id = ? ORDER BY client_id", [.text(tenantID), .text(userID)])
            .map { try $0.consent() }
    }

    public func revokeConsents(tenantID: String, userID: String, clientID: String?) async throws -> [String] {
        try await write("DELETE FROM consents WHERE tenant_id = ? AND user_id = ? AND (? IS NULL OR client_id = ?) RETURNING client_id",
                        [.text(tenantID), .text(userID), Bind.text(clientID), Bind.text(clientID)]).map { try $0.string("client_id") }.sorted()
    }
}
