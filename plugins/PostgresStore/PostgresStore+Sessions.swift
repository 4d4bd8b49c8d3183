import Foundation
import IdentityCore
import PostgresNIO

extension PostgresStore {
    public func createSession(_ s: Session, firstToken: RefreshTokenRecord?) async throws {
        let logger = self.logger
        try await inTenant(s.tenantID) { db in
            try await db.query("""
                INSERT INTO sessions (tenant_id, id, user_id, client_id, scopes, acr, amr, auth_time, created_at, last_used_at, idle_expires_at,
                  absolute_expires_at, access_expires_at, status, revoked_at, dpop_jkt, ip, user_agent, browser_session_id)
                VALUES (\(s.tenantID), \(s.id), \(s.userID), \(s.clientID), \(s.scopes), \(s.acr.rawValue), \(s.amr), \(s.authTime), \(s.createdAt),
                  \(s.lastUsedAt), \(s.idleExpiresAt), \(s.absoluteExpiresAt), \(s.accessExpiresAt), \(s.status.rawValue), \(s.revokedAt),
                  \(s.dpopJKT), \(s.ip), \(s.userAgent), \(s.browserSessionID))
                """, logger: logger)
            if let t = firstToken {
                try await db.query("""
                    INSERT INTO refresh_tokens (tenant_id, lookup_key, session_id, client_id, state, created_at, rotated_at, parent_key)
                    VALUES (\(t.tenantID), \(t.lookupKey), \(t.sessionID), \(t.clientID), \(t.state.rawValue), \(t.createdAt), \(t.rotatedAt), \(t.parentKey))
                    """, logger: logger)
            }
        }
    }

    public func session(tenantID: String, id: String) async throws -> Session? {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("SELECT * FROM sessions WHERE tenant_id = \(tenantID) AND id = \(id)", logger: logger).first?.session(tenantID: tenantID)
        }
    }

    public func liveSessions(tenantID: String, userID: String, now: Date) async throws -> [Session] {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("""
                SELECT * FROM sessions WHERE tenant_id = \(tenantID) AND user_id = \(userID) AND status = 'active'
                  AND idle_expires_at > \(now) AND absolute_expires_at > \(now) ORDER BY created_at DESC, id DESC
                """, logger: logger).map { try $0.session(tenantID: tenantID) }
        }
    }

    public func liveSessions(tenantID: String, now: Date, limit: Int) async throws -> [Session] {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("""
                SELECT * FROM sessions WHERE tenant_id = \(tenantID) AND status = 'active'
                  AND idle_expires_at > \(now) AND absolute_expires_at > \(now) ORDER BY created_at, id LIMIT \(Int32(limit))
                """, logger: logger).map { try $0.session(tenantID: tenantID) }
        }
    }

    /// Round trip 1 of the refresh grant.
    public func refreshToken(tenantID: String, lookupKey: String) async throws -> (RefreshTokenRecord, Session)? {
        var statement = Prepared<FindRefreshSQL>()
        statement.bindings.append(tenantID)
        statement.bindings.append(lookupKey)
        guard let row = try await execute(statement).first else { return nil }
        let token = try row.refreshToken(tenantID: tenantID)
        return (token, try row.session(tenantID: tenantID, id: token.sessionID, prefix: "s_"))
    }

    /// Round trip 2 of the refresh grant: the compare-and-set in one statement (one transaction).
    public func applyRefresh(_ w: RefreshWrite) async throws -> RefreshWriteResult {
        let successor = w.successor
        var statement = Prepared<ApplyRefreshSQL>()
        statement.bindings.append(w.tenantID)
        statement.bindings.append(w.presentedKey)
        statement.bindings.append(w.expectedState.rawValue)
        statement.bindings.append(w.newState.rawValue)
        statement.bindings.append(w.now)
        statement.bindings.append(w.sessionID)
        statement.bindings.append(w.lastUsedAt)
        statement.bindings.append(w.idleExpiresAt)
        statement.bindings.append(w.accessExpiresAt)
        statement.bindings.append(successor?.lookupKey)
        statement.bindings.append(successor?.clientID)
        statement.bindings.append(successor?.createdAt)
        statement.bindings.append(successor?.parentKey)
        statement.bindings.append(w.graceLimit.map { Int32(clamping: $0) })
        statement.bindings.append(w.supersedes)
        let result = try await reportingOutages { [statement] in
            do {
                return try await self.rows(of: statement).first?.string("result")
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == PostgresSchema.tokenChangedState {
                return "token_changed"  // raised after the session's slide, which the error undid
            }
        }
        switch result {
        case "applied": return .applied
        case "token_changed": return .tokenChanged
        default: return .sessionNotLive
        }
    }

    public func revokeSessions(tenantID: String, ids: [String], at now: Date) async throws -> [Session] {
        guard !ids.isEmpty else { return [] }
        return try await revoke(tenantID: tenantID, now: now) { db, logger in
            try await db.rows("""
                UPDATE sessions SET status = 'revoked', revoked_at = \(now)
                WHERE tenant_id = \(tenantID) AND status = 'active' AND id = ANY(\(ids)) RETURNING *
                """, logger: logger)
        }
    }

    public func revokeUserSessions(tenantID: String, userID: String, at now: Date) async throws -> [Session] {
        try await revoke(tenantID: tenantID, now: now) { db, logger in
            try await db.rows("""
                UPDATE sessions SET status = 'revoked', revoked_at = \(now)
                WHERE tenant_id = \(tenantID) AND status = 'active' AND user_id = \(userID) RETURNING *
                """, logger: logger)
        }
    }

    public func revokeClientSessions(tenantID: String, clientID: String, at now: Date) async throws -> [Session] {
        try await revoke(tenantID: tenantID, now: now) { db, logger in
            try await db.rows("""
                UPDATE sessions SET status = 'revoked', revoked_at = \(now)
                WHERE tenant_id = \(tenantID) AND status = 'active' AND client_id = \(clientID) RETURNING *
                """, logger: logger)
        }
    }

    public func revokeBrowserSessionSessions(tenantID: String, browserSessionID: String, at now: Date) async throws -> [Session] {
        try await revoke(tenantID: tenantID, now: now) { db, logger in
            try await db.rows("""
                UPDATE sessions SET status = 'revoked', revoked_at = \(now)
                WHERE tenant_id = \(tenantID) AND status = 'active' AND browser_session_id = \(browserSessionID) RETURNING *
                """, logger: logger)
        }
    }

    /// Marks sessions revoked with `mark` (an UPDATE … RETURNING *), then their refresh tokens, and records
    /// their sids in the revocation list, in one transaction.
    private func revoke(tenantID: String, now: Date,
                        mark: @escaping @Sendable (PostgresConnection, Logger) async throws -> [Row]) async throws -> [Session] {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            let sessions = try await mark(db, logger).map { try $0.session(tenantID: tenantID) }.sorted { $0.id < $1.id }
            guard !sessions.isEmpty else { return [] }
            let ids = sessions.map(\.id)
            try await db.query("""
                UPDATE refresh_tokens SET state = 'revoked' WHERE tenant_id = \(tenantID) AND session_id = ANY(\(ids)) AND state <> 'revoked'
                """, logger: logger)
            try await db.query("""
                INSERT INTO revocations (tenant_id, kind, value, expires_at)
                SELECT \(tenantID), 'sid', id, until FROM unnest(\(ids)::text[], \(sessions.map(\.accessExpiresAt))::timestamptz[]) AS r(id, until)
                ON CONFLICT (tenant_id, kind, value) DO UPDATE SET expires_at = GREATEST(revocations.expires_at, excluded.expires_at)
                """, logger: logger)
            return sessions
        }
    }
}
