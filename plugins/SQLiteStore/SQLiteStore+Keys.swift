import Foundation
import IdentityCore
import SQLiteNIO

extension SQLiteStore {
    public func signingKeys(tenantID: String) async throws -> [SigningKey] {
        try await read("SELECT * FROM signing_keys WHERE tenant_id = ? ORDER BY created_at DESC, kid DESC", [.text(tenantID)])
            .map { try $0.signingKey() }
    }

    public func saveSigningKeys(_ keys: [SigningKey]) async throws {
        try await transaction { db in
            for key in keys { try Self.upsert(key, on: db) }
        }
    }

    static func upsert(_ key: SigningKey, on db: SQLiteHandle) throws {
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
}
