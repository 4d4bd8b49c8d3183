import Foundation
import IdentityCore
import PostgresNIO

extension PostgresStore {
    public func setting(_ name: String) async throws -> String? {
        let logger = self.logger
        return try await reportingOutages {
            try await self.client.withConnection { db in
                try await db.rows("SELECT value FROM settings WHERE name = \(name)", logger: logger).first?.string("value")
            }
        }
    }

    /// The insert, then — when another writer got there first — a read in a statement of its own: within the
    /// insert's statement the snapshot predates a row committed concurrently, so the conflicting row would not
    /// be seen there.
    public func insertSetting(_ name: String, value: String) async throws -> String {
        let logger = self.logger
        return try await reportingOutages {
            try await self.client.withConnection { db in
                for _ in 0..<3 {
                    if let inserted = try await db.rows("""
                        INSERT INTO settings (name, value) VALUES (\(name), \(value)) ON CONFLICT (name) DO NOTHING RETURNING value
                        """, logger: logger).first {
                        return try inserted.string("value")
                    }
                    if let existing = try await db.rows("SELECT value FROM settings WHERE name = \(name)", logger: logger).first {
                        return try existing.string("value")
                    }
                }
                throw StoreError.unavailable("postgres: setting \(name) neither inserted nor found")
            }
        }
    }

    public func replaceSetting(_ name: String, value: String) async throws {
        let logger = self.logger
        try await reportingOutages {
            try await self.client.withConnection { db in
                try await db.query("""
                    INSERT INTO settings (name, value) VALUES (\(name), \(value)) ON CONFLICT (name) DO UPDATE SET value = excluded.value
                    """, logger: logger)
            }
        }
    }
}
