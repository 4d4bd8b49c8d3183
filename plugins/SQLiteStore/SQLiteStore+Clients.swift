import Foundation
import IdentityCore
import SQLiteNIO

extension SQLiteStore {
    public func createClient(_ client: Client) async throws {
        try await unique("client") {
            try await write(
                """
                INSERT INTO clients (tenant_id, id, name, kind, secret_hash, grant_types, redirect_uris, scopes, created_at, updated_at,
                  secret_rotated_at, post_logout_redirect_uris, require_consent)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(client.tenantID), .text(client.id), .text(client.name), .text(client.kind.rawValue), Bind.text(client.secretHash),
                 Bind.list(client.grantTypes.map(\.rawValue)), Bind.list(client.redirectURIs), Bind.list(client.scopes),
                 Bind.time(client.createdAt), Bind.time(client.updatedAt), Bind.time(client.secretRotatedAt),
                 Bind.list(client.postLogoutRedirectURIs), .integer(client.requireConsent ? 1 : 0)])
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
            UPDATE clients SET name = ?, secret_hash = ?, grant_types = ?, redirect_uris = ?, scopes = ?, updated_at = ?,
              secret_rotated_at = ?, post_logout_redirect_uris = ?, require_consent = ?
            WHERE tenant_id = ? AND id = ? RETURNING id
            """,
            [.text(client.name), Bind.text(client.secretHash), Bind.list(client.grantTypes.map(\.rawValue)), Bind.list(client.redirectURIs),
             Bind.list(client.scopes), Bind.time(client.updatedAt), Bind.time(client.secretRotatedAt), Bind.list(client.postLogoutRedirectURIs),
             .integer(client.requireConsent ? 1 : 0), .text(client.tenantID), .text(client.id)]).isEmpty
    }

    public func deleteClient(tenantID: String, id: String) async throws -> Bool {
        try await !write("DELETE FROM clients WHERE tenant_id = ? AND id = ? RETURNING id", [.text(tenantID), .text(id)]).isEmpty
    }
}
