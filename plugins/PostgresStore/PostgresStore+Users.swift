import Foundation
import IdentityCore
import PostgresNIO

extension PostgresStore {
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

    public func acceptTOTPStep(tenantID: String, userID: String, step: Int64) async throws -> Bool {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.changed("""
                UPDATE users SET totp_last_step = \(step)
                WHERE tenant_id = \(tenantID) AND id = \(userID) AND (totp_last_step IS NULL OR totp_last_step < \(step)) RETURNING id
                """, logger: logger)
        }
    }

    public func replacePasswordHash(tenantID: String, userID: String, old: String, new: String) async throws -> Bool {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.changed("""
                UPDATE users SET password_hash = \(new) WHERE tenant_id = \(tenantID) AND id = \(userID) AND password_hash = \(old) RETURNING id
                """, logger: logger)
        }
    }
}
