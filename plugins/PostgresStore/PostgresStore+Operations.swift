import Foundation
import IdentityCore
import PostgresNIO

extension PostgresStore {
    private func json(_ policy: TenantPolicy) throws -> String { String(decoding: try JSONEncoder().encode(policy), as: UTF8.self) }

    // MARK: tenants

    public func createTenant(_ tenant: Tenant, adminKeyHash: String, keys: [SigningKey]) async throws {
        let policy = try json(tenant.policy), logger = self.logger
        try await inTenant(tenant.id) { db in
            try await db.query("""
                INSERT INTO tenants (id, name, status, policy, admin_key_hash, created_at, updated_at)
                VALUES (\(tenant.id), \(tenant.name), \(tenant.status.rawValue), \(policy)::jsonb, \(adminKeyHash), \(tenant.createdAt), \(tenant.updatedAt))
                """, logger: logger)
            for key in keys { try await Self.upsert(key, on: db, logger: logger) }
        }
    }

    public func tenant(id: String) async throws -> Tenant? {
        let logger = self.logger
        return try await inTenant(id) { db in
            try await db.rows("SELECT id, name, status, policy::text AS policy, created_at, updated_at FROM tenants WHERE id = \(id)", logger: logger)
                .first?.tenant()
        }
    }

    public func tenants() async throws -> [Tenant] {
        let logger = self.logger
        return try await inTenant("*") { db in
            try await db.rows("SELECT id, name, status, policy::text AS policy, created_at, updated_at FROM tenants ORDER BY id", logger: logger)
                .map { try $0.tenant() }
        }
    }

    public func updateTenant(_ tenant: Tenant) async throws -> Bool {
        let policy = try json(tenant.policy), logger = self.logger
        return try await inTenant(tenant.id) { db in
            try await db.changed("""
                UPDATE tenants SET name = \(tenant.name), status = \(tenant.status.rawValue), policy = \(policy)::jsonb, updated_at = \(tenant.updatedAt)
                WHERE id = \(tenant.id) RETURNING id
                """, logger: logger)
        }
    }

    public func deleteTenant(id: String) async throws -> Bool {
        let logger = self.logger
        return try await inTenant(id) { db in
            // Rows under the tenant go by ON DELETE CASCADE. Its events (no foreign key, see `appendEvents`) and
            // refresh tokens (none, see migration 9) after the tenant's row: its lock first waits for any audit
            // batch still writing to it, and the cascade to its sessions for any rotation still inserting a token.
            let deleted = try await db.changed("DELETE FROM tenants WHERE id = \(id) RETURNING id", logger: logger)
            try await db.query("DELETE FROM refresh_tokens WHERE tenant_id = \(id)", logger: logger)
            try await db.query("DELETE FROM events WHERE tenant_id = \(id)", logger: logger)
            return deleted
        }
    }

    public func tenantID(adminKeyHash hash: String) async throws -> String? {
        let logger = self.logger
        return try await inTenant("*") { db in
            try await db.rows("SELECT id FROM tenants WHERE admin_key_hash = \(hash)", logger: logger).first?.string("id")
        }
    }

    // MARK: keys

    public func signingKeys(tenantID: String) async throws -> [SigningKey] {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("SELECT * FROM signing_keys WHERE tenant_id = \(tenantID) ORDER BY created_at DESC, kid DESC", logger: logger)
                .map { try $0.signingKey() }
        }
    }

    public func saveSigningKeys(_ keys: [SigningKey]) async throws {
        guard let tenantID = keys.first?.tenantID else { return }
        let logger = self.logger
        try await inTenant(tenantID) { db in
            for key in keys { try await Self.upsert(key, on: db, logger: logger) }
        }
    }

    private static func upsert(_ key: SigningKey, on db: PostgresConnection, logger: Logger) async throws {
        try await db.query("""
            INSERT INTO signing_keys (tenant_id, kid, alg, state, public_jwk, sealed_private_key, created_at, activated_at, retired_at, verify_until)
            VALUES (\(key.tenantID), \(key.kid), \(key.algorithm.rawValue), \(key.state.rawValue), \(key.publicJWK), \(key.sealedPrivateKey),
                    \(key.createdAt), \(key.activatedAt), \(key.retiredAt), \(key.verifyUntil))
            ON CONFLICT (tenant_id, kid) DO UPDATE SET state = excluded.state, activated_at = excluded.activated_at,
              retired_at = excluded.retired_at, verify_until = excluded.verify_until
            """, logger: logger)
    }

    // MARK: clients

    public func createClient(_ c: Client) async throws {
        let logger = self.logger
        try await inTenant(c.tenantID) { db in
            try await db.query("""
                INSERT INTO clients (tenant_id, id, name, kind, secret_hash, grant_types, redirect_uris, scopes, created_at, updated_at)
                VALUES (\(c.tenantID), \(c.id), \(c.name), \(c.kind.rawValue), \(c.secretHash), \(c.grantTypes.map(\.rawValue)), \(c.redirectURIs),
                        \(c.scopes), \(c.createdAt), \(c.updatedAt))
                """, logger: logger)
        }
    }

    public func client(tenantID: String, id: String) async throws -> Client? {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("SELECT * FROM clients WHERE tenant_id = \(tenantID) AND id = \(id)", logger: logger).first?.client()
        }
    }

    public func clients(tenantID: String) async throws -> [Client] {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("SELECT * FROM clients WHERE tenant_id = \(tenantID) ORDER BY id", logger: logger).map { try $0.client() }
        }
    }

    public func updateClient(_ c: Client) async throws -> Bool {
        let logger = self.logger
        return try await inTenant(c.tenantID) { db in
            try await db.changed("""
                UPDATE clients SET name = \(c.name), secret_hash = \(c.secretHash), grant_types = \(c.grantTypes.map(\.rawValue)),
                  redirect_uris = \(c.redirectURIs), scopes = \(c.scopes), updated_at = \(c.updatedAt)
                WHERE tenant_id = \(c.tenantID) AND id = \(c.id) RETURNING id
                """, logger: logger)
        }
    }

    public func deleteClient(tenantID: String, id: String) async throws -> Bool {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.changed("DELETE FROM clients WHERE tenant_id = \(tenantID) AND id = \(id) RETURNING id", logger: logger)
        }
    }

    // MARK: users

    public func createUser(_ u: User) async throws {
        let logger = self.logger
        try await inTenant(u.tenantID) { db in
            try await db.query("""
                INSERT INTO users (tenant_id, id, username, email, password_hash, sealed_totp_secret, created_at, updated_at)
                VALUES (\(u.tenantID), \(u.id), \(u.username), \(u.email), \(u.passwordHash), \(u.sealedTOTPSecret), \(u.createdAt), \(u.updatedAt))
                """, logger: logger)
        }
    }

    public func user(tenantID: String, id: String) async throws -> User? {
        var statement = Prepared<UserByIDSQL>()
        statement.bindings.append(tenantID)
        statement.bindings.append(id)
        return try await execute(statement).first?.user()
    }

    public func user(tenantID: String, username: String) async throws -> User? {
        var statement = Prepared<UserByNameSQL>()
        statement.bindings.append(tenantID)
        statement.bindings.append(username)
        return try await execute(statement).first?.user()
    }

    public func users(tenantID: String) async throws -> [User] {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("SELECT * FROM users WHERE tenant_id = \(tenantID) ORDER BY username", logger: logger).map { try $0.user() }
        }
    }

    public func updateUser(_ u: User) async throws -> Bool {
        let logger = self.logger
        return try await inTenant(u.tenantID) { db in
            try await db.changed("""
                UPDATE users SET username = \(u.username), email = \(u.email), password_hash = \(u.passwordHash),
                  sealed_totp_secret = \(u.sealedTOTPSecret), updated_at = \(u.updatedAt)
                WHERE tenant_id = \(u.tenantID) AND id = \(u.id) RETURNING id
                """, logger: logger)
        }
    }

    public func deleteUser(tenantID: String, id: String) async throws -> Bool {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.changed("DELETE FROM users WHERE tenant_id = \(tenantID) AND id = \(id) RETURNING id", logger: logger)
        }
    }

    // MARK: events

    /// One statement for the whole batch, so that a retried batch is never half written twice: the events travel
    /// as one JSON array, unpacked by `jsonb_array_elements`, in the order given. Events of a tenant that no
    /// longer exists are dropped (the deletion would have dropped them). Instead of a foreign key checked per
    /// row (half the cost of the insert, measured), the statement locks each of its tenants' rows once
    /// (`FOR KEY SHARE`): a deletion waits for it, then deletes what it wrote (see `deleteTenant`).
    ///
    /// `batch` goes into `event_batches` in the same statement: a retry of a write that missed its deadline but
    /// committed afterwards finds it there and writes nothing (the purge forgets names after a day).
    public func appendEvents(_ events: [AuditEvent], batch: String) async throws {
        guard !events.isEmpty else { return }
        let logger = self.logger
        let json = try AuditEvent.batchJSON(events)
        let tenants = Array(Set(events.map(\.tenantID)))
        // Across tenants, like the purge: the events name their tenants themselves.
        try await inTenant("*") { db in
            try await db.query("""
                WITH first AS (INSERT INTO event_batches (id) VALUES (\(batch)) ON CONFLICT DO NOTHING RETURNING id),
                  live AS (SELECT id FROM tenants WHERE id = ANY(\(tenants)) FOR KEY SHARE)
                INSERT INTO events (tenant_id, kind, time, user_id, client_id, session_id, token_hash_prefix, ip, user_agent, detail)
                SELECT live.id, e ->> 'kind', to_timestamp((e ->> 'time_ms')::bigint / 1000.0), e ->> 'user_id',
                  e ->> 'client_id', e ->> 'session_id', e ->> 'token_hash_prefix', e ->> 'ip', e ->> 'user_agent', e ->> 'detail'
                FROM first CROSS JOIN jsonb_array_elements(\(json)::jsonb) WITH ORDINALITY AS a(e, n) JOIN live ON live.id = e ->> 'tenant_id'
                ORDER BY n
                """, logger: logger)
        }
    }

    public func events(tenantID: String, kind: AuditEvent.Kind?, after: Int64, limit: Int) async throws -> [AuditEvent] {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("""
                SELECT * FROM events WHERE tenant_id = \(tenantID) AND id > \(after) AND (\(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue))
                ORDER BY id LIMIT \(limit)
                """, logger: logger).map { try $0.event() }
        }
    }
}
