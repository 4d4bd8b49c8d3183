import Foundation
import IdentityCore
import SQLiteNIO

extension SQLiteStore {
    public func createSession(_ session: Session, firstToken: RefreshTokenRecord?) async throws {
        try await transaction { db in
            try db.query(
                """
                INSERT INTO sessions (tenant_id, id, user_id, client_id, scopes, acr, amr, auth_time, created_at, last_used_at,
                  idle_expires_at, absolute_expires_at, access_expires_at, status, revoked_at, dpop_jkt, ip, user_agent, browser_session_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(session.tenantID), .text(session.id), .text(session.userID), .text(session.clientID), Bind.list(session.scopes),
                 .text(session.acr.rawValue), Bind.list(session.amr), Bind.time(session.authTime), Bind.time(session.createdAt),
                 Bind.time(session.lastUsedAt), Bind.time(session.idleExpiresAt), Bind.time(session.absoluteExpiresAt),
                 Bind.time(session.accessExpiresAt), .text(session.status.rawValue), Bind.time(session.revokedAt), Bind.text(session.dpopJKT),
                 Bind.text(session.ip), Bind.text(session.userAgent), Bind.text(session.browserSessionID)])
            if let firstToken { try Self.insert(firstToken, on: db) }
        }
    }

    private static func insert(_ token: RefreshTokenRecord, on db: SQLiteHandle) throws {
        try db.query(
            """
            INSERT INTO refresh_tokens (tenant_id, lookup_key, session_id, client_id, state, created_at, rotated_at, parent_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(token.tenantID), .text(token.lookupKey), .text(token.sessionID), .text(token.clientID), .text(token.state.rawValue),
             Bind.time(token.createdAt), Bind.time(token.rotatedAt), Bind.text(token.parentKey)])
    }

    public func session(tenantID: String, id: String) async throws -> Session? {
        try await read("SELECT * FROM sessions WHERE tenant_id = ? AND id = ?", [.text(tenantID), .text(id)]).first?.session()
    }

    public func liveSessions(tenantID: String, userID: String, now: Date) async throws -> [Session] {
        try await read(
            """
            SELECT * FROM sessions WHERE tenant_id = ? AND user_id = ? AND status = 'active' AND idle_expires_at > ? AND absolute_expires_at > ?
            ORDER BY created_at DESC, id DESC
            """,
            [.text(tenantID), .text(userID), Bind.time(now), Bind.time(now)]).map { try $0.session() }
    }

    public func liveSessions(tenantID: String, now: Date, limit: Int) async throws -> [Session] {
        try await read(
            """
            SELECT * FROM sessions WHERE tenant_id = ? AND status = 'active' AND idle_expires_at > ? AND absolute_expires_at > ?
            ORDER BY created_at, id LIMIT ?
            """,
            [.text(tenantID), Bind.time(now), Bind.time(now), .integer(limit)]).map { try $0.session() }
    }

    public func refreshToken(tenantID: String, lookupKey: String) async throws -> (RefreshTokenRecord, Session)? {
        guard let row = try await read(
            """
            SELECT t.*, s.tenant_id AS s_tenant_id, s.id AS s_id, s.user_id AS s_user_id, s.client_id AS s_client_id, s.scopes AS s_scopes,
              s.acr AS s_acr, s.amr AS s_amr, s.auth_time AS s_auth_time, s.created_at AS s_created_at, s.last_used_at AS s_last_used_at,
              s.idle_expires_at AS s_idle_expires_at, s.absolute_expires_at AS s_absolute_expires_at,
              s.access_expires_at AS s_access_expires_at, s.status AS s_status, s.revoked_at AS s_revoked_at, s.dpop_jkt AS s_dpop_jkt,
              s.ip AS s_ip, s.user_agent AS s_user_agent, s.browser_session_id AS s_browser_session_id
            FROM refresh_tokens t JOIN sessions s ON s.tenant_id = t.tenant_id AND s.id = t.session_id
            WHERE t.tenant_id = ? AND t.lookup_key = ?
            """,
            [.text(tenantID), .text(lookupKey)]).first else { return nil }
        return (try row.refreshToken(), try row.session(prefix: "s_"))
    }

    /// The compare-and-set, the slide and the successor in one statement (migration 2's trigger), atomic
    /// by itself: of two racing writes (serialised by the write lock and SQLite's single writer) only the first
    /// finds the expected state; the trigger aborts, writing nothing, when the token or the session changed.
    public func applyRefresh(_ write: RefreshWrite) async throws -> RefreshWriteResult {
        let successor = write.successor
        do {
            _ = try await self.write(
                """
                INSERT INTO refresh_writes (tenant_id, presented_key, expected_state, new_state, now, session_id, last_used_at,
                  idle_expires_at, access_expires_at, successor_key, successor_session_id, successor_client_id, successor_created_at,
                  successor_parent_key, grace_limit, supersedes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(write.tenantID), .text(write.presentedKey), .text(write.expectedState.rawValue), .text(write.newState.rawValue),
                 Bind.time(write.now), .text(write.sessionID), Bind.time(write.lastUsedAt), Bind.time(write.idleExpiresAt),
                 Bind.time(write.accessExpiresAt), Bind.text(successor?.lookupKey), Bind.text(successor?.sessionID),
                 Bind.text(successor?.clientID), Bind.time(successor?.createdAt), Bind.text(successor?.parentKey),
                 write.graceLimit.map { .integer($0) } ?? .null, Bind.text(write.supersedes)])
            return .applied
        } catch let error as SQLiteFailure where error.message.contains("identityd:token_changed") {
            return .tokenChanged
        } catch let error as SQLiteFailure where error.message.contains("identityd:session_not_live") {
            return .sessionNotLive
        }
    }

    public func revokeSessions(tenantID: String, ids: [String], at now: Date) async throws -> [Session] {
        guard !ids.isEmpty else { return [] }
        return try await revoke(tenantID: tenantID, now: now, filter: "id IN (SELECT value FROM json_each(?))", argument: Bind.list(ids))
    }

    public func revokeUserSessions(tenantID: String, userID: String, at now: Date) async throws -> [Session] {
        try await revoke(tenantID: tenantID, now: now, filter: "user_id = ?", argument: .text(userID))
    }

    public func revokeClientSessions(tenantID: String, clientID: String, at now: Date) async throws -> [Session] {
        try await revoke(tenantID: tenantID, now: now, filter: "client_id = ?", argument: .text(clientID))
    }

    public func revokeBrowserSessionSessions(tenantID: String, browserSessionID: String, at now: Date) async throws -> [Session] {
        try await revoke(tenantID: tenantID, now: now, filter: "browser_session_id = ?", argument: .text(browserSessionID))
    }

    /// Revokes the active sessions of `tenantID` matching `filter` (a fixed SQL fragment with one parameter),
    /// their refresh tokens, and records their revocations, in one transaction.
    private func revoke(tenantID: String, now: Date, filter: String, argument: SQLiteData) async throws -> [Session] {
        try await transaction { db in
            let sessions = try db.query(
                "UPDATE sessions SET status = 'revoked', revoked_at = ? WHERE tenant_id = ? AND status = 'active' AND \(filter) RETURNING *",
                [Bind.time(now), .text(tenantID), argument]).map { try $0.session() }
            for session in sessions {
                try db.query("UPDATE refresh_tokens SET state = 'revoked' WHERE tenant_id = ? AND session_id = ? AND state <> 'revoked'",
                                       [.text(tenantID), .text(session.id)])
                try Self.insert(session.revocation, on: db)
            }
            return sessions.sorted { $0.id < $1.id }
        }
    }
}
