import Foundation
import IdentityCore
import SQLiteNIO

extension SQLiteStore {
    /// Runs `body`, turning a uniqueness violation into `StoreError.conflict`.
    @discardableResult
    func unique<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as SQLiteFailure where error.isConstraint {
            throw StoreError.conflict(what)
        }
    }

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
            for table in ["signing_keys", "clients", "users", "sessions", "refresh_tokens", "revocations", "events", "authorization_codes",
                          "browser_sessions", "consents", "webhook_outbox"] {
                try db.query("DELETE FROM \(table) WHERE tenant_id = ?", [.text(id)])
            }
            return try !db.query("DELETE FROM tenants WHERE id = ? RETURNING id", [.text(id)]).isEmpty
        }
    }

    public func tenantID(adminKeyHash hash: String) async throws -> String? {
        try await read("SELECT id FROM tenants WHERE admin_key_hash = ?", [.text(hash)]).first?.string("id")
    }

    public func replaceAdminKeyHash(tenantID: String, hash: String) async throws -> Bool {
        try await !write("UPDATE tenants SET admin_key_hash = ? WHERE id = ? RETURNING id", [.text(hash), .text(tenantID)]).isEmpty
    }
}
