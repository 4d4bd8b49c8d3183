import Foundation
import IdentityCore
import SQLiteNIO

extension SQLiteStore {
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

    public func acceptTOTPStep(tenantID: String, userID: String, step: Int64) async throws -> Bool {
        try await !write(
            """
            UPDATE users SET totp_last_step = ? WHERE tenant_id = ? AND id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)
            RETURNING id
            """, [.integer(Int(step)), .text(tenantID), .text(userID), .integer(Int(step))]).isEmpty
    }

    public func replacePasswordHash(tenantID: String, userID: String, old: String, new: String) async throws -> Bool {
        try await !write("UPDATE users SET password_hash = ? WHERE tenant_id = ? AND id = ? AND password_hash = ? RETURNING id",
                         [.text(new), .text(tenantID), .text(userID), .text(old)]).isEmpty
    }
}
