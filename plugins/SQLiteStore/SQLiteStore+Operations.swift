import Foundation
import IdentityCore
import SQLiteNIO

extension SQLiteStore {
    /// Runs `body`, turning a uniqueness violation into `StoreError.conflict`.
    @discardableResult
    private func unique<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as SQLiteFailure where error.isConstraint {
            throw StoreError.conflict(what)
        }
    }

    // MARK: tenants

    public func createTenant(_ tenant: Tenant, adminKeyHash: String, keys: [SigningKey]) async throws {
        let policy = String(decoding: try JSONEncoder().encode(tenant.policy), as: UTF8.self)
        try await unique("tenant") {
            try await transaction { db in
                try db.query(
                    "INSERT INTO tenants (id, name, status, policy, admin_key_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [.text(tenant.id), .text(tenant.name), .text(tenant.status.rawValue), .text(policy), .text(adminKeyHash),
                     Bind.time(tenant.createdAt), Bind.time(tenant.updatedAt)])
                for key in keys { try Self.upsert(key, on: db) }
            }
        }
    }

    public func tenant(id: String) async throws -> Tenant? {
        try await read("SELECT * FROM tenants WHERE id = ?", [.text(id)]).first?.tenant()
    }

    public func tenants() async throws -> [Tenant] {
        try await read("SELECT * FROM tenants ORDER BY id", []).map { try $0.tenant() }
    }

    public func updateTenant(_ tenant: Tenant) async throws -> Bool {
        let policy = String(decoding: try JSONEncoder().encode(tenant.policy), as: UTF8.self)
        return try await !write("UPDATE tenants SET name = ?, status = ?, policy = ?, updated_at = ? WHERE id = ? RETURNING id",
                                [.text(tenant.name), .text(tenant.status.rawValue), .text(policy), Bind.time(tenant.updatedAt), .text(tenant.id)]).isEmpty
    }

    public func deleteTenant(id: String) async throws -> Bool {
        try await transaction { db in
            for table in ["signing_keys", "clients", "users", "sessions", "refresh_tokens", "revocations", "events"] {
                try db.query("DELETE FROM \(table) WHERE tenant_id = ?", [.text(id)])
            }
            return try !db.query("DELETE FROM tenants WHERE id = ? RETURNING id", [.text(id)]).isEmpty
        }
    }

    public func tenantID(adminKeyHash hash: String) async throws -> String? {
        try await read("SELECT id FROM tenants WHERE admin_key_hash = ?", [.text(hash)]).first?.string("id")
    }

    // MARK: keys

    public func signingKeys(tenantID: String) async throws -> [SigningKey] {
        try await read("SELECT * FROM signing_keys WHERE tenant_id = ? ORDER BY created_at DESC, kid DESC", [.text(tenantID)])
            .map { try $0.signingKey() }
    }

    public func saveSigningKeys(_ keys: [SigningKey]) async throws {
        try await transaction { db in
            for key in keys { try Self.upsert(key, on: db) }
        }
    }

    private static func upsert(_ key: SigningKey, on db: SQLiteHandle) throws {
        try db.query(
            """
            INSERT INTO signing_keys (tenant_id, kid, alg, state, public_jwk, sealed_private_key, created_at, activated_at, retired_at, verify_until)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant_id, kid) DO UPDATE SET state = excluded.state, activated_at = excluded.activated_at,
              retired_at = excluded.retired_at, verify_until = excluded.verify_until
            """,
            [.text(key.tenantID), .text(key.kid), .text(key.algorithm.rawValue), .text(key.state.rawValue), .text(key.publicJWK),
             .text(key.sealedPrivateKey), Bind.time(key.createdAt), Bind.time(key.activatedAt), Bind.time(key.retiredAt),
             Bind.time(key.verifyUntil)])
    }

    // MARK: clients

    public func createClient(_ client: Client) async throws {
        try await unique("client") {
            try await write(
                """
                INSERT INTO clients (tenant_id, id, name, kind, secret_hash, grant_types, redirect_uris, scopes, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(client.tenantID), .text(client.id), .text(client.name), .text(client.kind.rawValue), Bind.text(client.secretHash),
                 Bind.list(client.grantTypes.map(\.rawValue)), Bind.list(client.redirectURIs), Bind.list(client.scopes),
                 Bind.time(client.createdAt), Bind.time(client.updatedAt)])
        }
    }

    public func client(tenantID: String, id: String) async throws -> Client? {
        try await read("SELECT * FROM clients WHERE tenant_id = ? AND id = ?", [.text(tenantID), .text(id)]).first?.client()
    }

    public func clients(tenantID: String) async throws -> [Client] {
        try await read("SELECT * FROM clients WHERE tenant_id = ? ORDER BY id", [.text(tenantID)]).map { try $0.client() }
    }

    public func updateClient(_ client: Client) async throws -> Bool {
        try await !write(
            """
            UPDATE clients SET name = ?, secret_hash = ?, grant_types = ?, redirect_uris = ?, scopes = ?, updated_at = ?
            WHERE tenant_id = ? AND id = ? RETURNING id
            """,
            [.text(client.name), Bind.text(client.secretHash), Bind.list(client.grantTypes.map(\.rawValue)), Bind.list(client.redirectURIs),
             Bind.list(client.scopes), Bind.time(client.updatedAt), .text(client.tenantID), .text(client.id)]).isEmpty
    }

    public func deleteClient(tenantID: String, id: String) async throws -> Bool {
        try await !write("DELETE FROM clients WHERE tenant_id = ? AND id = ? RETURNING id", [.text(tenantID), .text(id)]).isEmpty
    }

    // MARK: users

    public func createUser(_ user: User) async throws {
        try await unique("username") {
            try await write(
                """
                INSERT INTO users (tenant_id, id, username, email, password_hash, sealed_totp_secret, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(user.tenantID), .text(user.id), .text(user.username), Bind.text(user.email), .text(user.passwordHash),
                 Bind.text(user.sealedTOTPSecret), Bind.time(user.createdAt), Bind.time(user.updatedAt)])
        }
    }

    public func user(tenantID: String, id: String) async throws -> User? {
        try await read("SELECT * FROM users WHERE tenant_id = ? AND id = ?", [.text(tenantID), .text(id)]).first?.user()
    }

    public func user(tenantID: String, username: String) async throws -> User? {
        try await read("SELECT * FROM users WHERE tenant_id = ? AND username = ?", [.text(tenantID), .text(username)]).first?.user()
    }

    public func users(tenantID: String) async throws -> [User] {
        try await read("SELECT * FROM users WHERE tenant_id = ? ORDER BY username", [.text(tenantID)]).map { try $0.user() }
    }

    public func updateUser(_ user: User) async throws -> Bool {
        try await unique("username") {
            try await !write(
                """
                UPDATE users SET username = ?, email = ?, password_hash = ?, sealed_totp_secret = ?, updated_at = ?
                WHERE tenant_id = ? AND id = ? RETURNING id
                """,
                [.text(user.username), Bind.text(user.email), .text(user.passwordHash), Bind.text(user.sealedTOTPSecret),
                 Bind.time(user.updatedAt), .text(user.tenantID), .text(user.id)]).isEmpty
        }
    }

    public func deleteUser(tenantID: String, id: String) async throws -> Bool {
        try await !write("DELETE FROM users WHERE tenant_id = ? AND id = ? RETURNING id", [.text(tenantID), .text(id)]).isEmpty
    }

    // MARK: events

    /// One statement per batch: the events travel as one JSON array, unpacked by `json_each`. Events of a tenant
    /// that no longer exists are dropped (the deletion would have dropped them; writes are serialised, so none
    /// lands between a deletion's statements). A write here never ends unconfirmed, so `batch` is not kept.
    public func appendEvents(_ events: [AuditEvent], batch: String) async throws {
        guard !events.isEmpty else { return }
        let json = try AuditEvent.batchJSON(events)
        _ = try await write(
            """
            INSERT INTO events (tenant_id, kind, time, user_id, client_id, session_id, token_hash_prefix, ip, user_agent, detail)
            SELECT value ->> 'tenant_id', value ->> 'kind', CAST(value ->> 'time_ms' AS INTEGER), value ->> 'user_id',
              value ->> 'client_id', value ->> 'session_id', value ->> 'token_hash_prefix', value ->> 'ip', value ->> 'user_agent',
              value ->> 'detail'
            FROM json_each(?) WHERE value ->> 'tenant_id' IN (SELECT id FROM tenants) ORDER BY key
            """, [.text(json)])
    }

    public func events(tenantID: String, kind: AuditEvent.Kind?, after: Int64, limit: Int) async throws -> [AuditEvent] {
        try await read(
            "SELECT * FROM events WHERE tenant_id = ? AND id > ? AND (? IS NULL OR kind = ?) ORDER BY id LIMIT ?",
            [.text(tenantID), .integer(Int(after)), Bind.text(kind?.rawValue), Bind.text(kind?.rawValue), .integer(limit)]
        ).map { try $0.event() }
    }
}
