import Foundation
import IdentityCore
import Logging
import PostgresNIO
import Synchronization

extension PostgresStore {

    public func migrate() async throws {
        try await reportingOutages(bounded: false) {
            try await self.client.withConnection { connection in
                // One node migrates at a time; the others wait, then find nothing left to do.
                try await connection.query("SELECT pg_advisory_lock(727274001)", logger: self.logger)
                do {
                    try await self.applyMigrations(on: connection)
                    try await connection.query("SELECT pg_advisory_unlock(727274001)", logger: self.logger)
                } catch {
                    _ = try? await connection.query("SELECT pg_advisory_unlock(727274001)", logger: self.logger)
                    throw error
                }
            }
        }
    }

    private func applyMigrations(on connection: PostgresConnection) async throws {
        try await connection.query("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)",
                                   logger: logger)
        let rows = try await connection.query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations", logger: logger).collect()
        let current = try rows.first?.makeRandomAccess()["v"].decode(Int.self) ?? 0
        let known = PostgresSchema.migrations.count
        guard current <= known else { throw StoreError.schemaTooNew(found: current, known: known) }
        for (index, statements) in PostgresSchema.migrations.enumerated() where index + 1 > current {
            try await connection.withTransaction(logger: logger) { connection in
                for sql in statements { try await connection.query(PostgresQuery(unsafeSQL: sql), logger: self.logger) }
                try await connection.query("INSERT INTO schema_migrations (version, applied_at) VALUES (\(index + 1), now())", logger: self.logger)
            }
            logger.notice("applied schema migration", metadata: ["version": "\(index + 1)"])
        }
    }
}
