import Foundation
import IdentityCore
import SQLiteNIO

extension SQLiteStore {
    public func setting(_ name: String) async throws -> String? {
        try await read("SELECT value FROM settings WHERE name = ?", [.text(name)]).first?.string("value")
    }

    public func insertSetting(_ name: String, value: String) async throws -> String {
        try await transaction { db in
            try db.query("INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [.text(name), .text(value)])
            return try db.query("SELECT value FROM settings WHERE name = ?", [.text(name)]).first?.string("value") ?? value
        }
    }

    public func replaceSetting(_ name: String, value: String) async throws {
        try await write("INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        [.text(name), .text(value)])
    }
}
