import Foundation
import IdentityCore
import Logging
import SQLiteNIO

/// The store protocols on an embedded SQLite file: the default for development and single-node installs.
///
/// WAL mode, through `SQLiteDatabase`: writes go one at a time through one writer connection (SQLite allows
/// one writer), committed in groups; reads run alongside on reader connections and see what was committed.
/// Timestamps are integer milliseconds since 1970; lists are JSON text.
public final class SQLiteStore: IdentityStore {
    let database: SQLiteDatabase

    /// Opens (creating if needed) the database at `path`.
    public static func open(path: String, logger: Logger = Logger(label: "identityd.sqlite")) async throws -> SQLiteStore {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        do {
            return SQLiteStore(database: try SQLiteDatabase(path: path, pragmas: ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"]))
        } catch let error as SQLiteFailure {
            throw StoreError.unavailable("sqlite: \(path): \(error.message)")
        }
    }

    private init(database: SQLiteDatabase) {
        self.database = database
    }

    public func close() async throws {
        try await database.close()
    }

    public func ping() async throws { _ = try await read("SELECT 1", []) }

    /// A consistent copy of the whole database at `path` (a new file), taken with SQLite's online backup API
    /// from a reader while the server goes on writing. The copy is a complete database a server can open.
    public func backup(to path: String) async throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw StoreError.unavailable("backup: \(path) exists; give a new file") }
        try await Self.reportingOutages {
            try database.read { source in
                let destination = try SQLiteHandle(path: path)
                try source.backup(into: destination)
            }
        }
    }

    /// Runs `body` as one transaction on the writer (a savepoint in the next group commit): all of it is
    /// written, or none of it if it throws.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLiteHandle) throws -> T) async throws -> T {
        try await Self.reportingOutages { try await database.write(body) }
    }

    /// One write statement on the writer.
    @discardableResult
    func write(_ sql: String, _ binds: [SQLiteData]) async throws -> [StoredRow] {
        try await transaction { try $0.query(sql, binds) }
    }

    /// One statement on a reader, on the calling thread (see `SQLiteDatabase`).
    func read(_ sql: String, _ binds: [SQLiteData]) async throws -> [StoredRow] {
        try await Self.reportingOutages { try database.read { try $0.query(sql, binds) } }
    }

    /// Runs `body`, reporting SQLite failures other than constraint violations (which callers map to
    /// `StoreError.conflict`) as `StoreError.unavailable`, as the store contract asks.
    private static func reportingOutages<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as SQLiteFailure where !error.isConstraint && !error.message.hasPrefix("identityd:") {
            throw StoreError.unavailable("sqlite: \(error.message)")
        }
    }
}
