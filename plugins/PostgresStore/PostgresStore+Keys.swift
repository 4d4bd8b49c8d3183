import Foundation
import IdentityCore
import PostgresNIO

extension PostgresStore {
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

    static func upsert(_ key: SigningKey, on db: PostgresConnection, logger: Logger) async throws {
        try await db.query("""
            INSERT INTO signing_keys (tenant_id, kid, alg, state, public_jwk, sealed_private_key, created_at, activated_at, retired_at, verify_until)
            VALUES (\(key.tenantID), \(key.kid), \(key.algorithm.rawValue), \(key.state.rawValue), \(key.publicJWK), \(key.sealedPrivateKey),
                    \(key.createdAt), \(key.activatedAt), \(key.retiredAt), \(key.verifyUntil))
            ON CONFLICT (tenant_id, kid) DO UPDATE SET state = excluded.state, activated_at = excluded.activated_at,
              retired_at = excluded.retired_at, verify_until = excluded.verify_until
            """, logger: logger)
    }
}
