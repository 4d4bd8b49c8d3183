import Foundation
import SQLiteNIO
import Synchronization
import VaporCSQLite

/// One SQLite connection and the statements it has prepared, by SQL text. Used by one thread at a time: the
/// writer thread, or the reader that checked it out (hence the unchecked `Sendable`).
final class SQLiteHandle: @unchecked Sendable {
    private let db: OpaquePointer
    private var statements: [String: Statement] = [:]
    /// The object SQLite's WAL hook points at, kept alive as long as this connection.
    private var walObserver: WALCheckpointer?

    private final class Statement {
        let raw: OpaquePointer
        let columns: ColumnIndex
        init(raw: OpaquePointer) {
            self.raw = raw
            let count = sqlite_nio_sqlite3_column_count(raw)
            var names: [String: Int] = [:]
            for index in 0..<count {
                let name = String(cString: sqlite_nio_sqlite3_column_name(raw, index))
                if names[name] == nil { names[name] = Int(index) }
            }
            columns = ColumnIndex(names: names, count: Int(count))
        }
    }

    init(path: String) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite_nio_sqlite3_close_v2(handle)
            throw SQLiteFailure(code: status, message: message)
        }
        db = handle
        sqlite_nio_sqlite3_busy_timeout(db, 5000)
    }

    deinit {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement.raw) }
        sqlite_nio_sqlite3_close_v2(db)
    }

    /// Tells `checkpointer` after each commit how large the WAL is, instead of SQLite's automatic checkpoint.
    func onCommit(_ checkpointer: WALCheckpointer) {
        walObserver = checkpointer
        sqlite_nio_sqlite3_wal_hook(db, { context, db, _, pages in
            guard let context else { return SQLITE_OK }
            let checkpointer = Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue()
            if checkpointer.committed(walPages: pages) {
                // A background pass still running holds the checkpoint lock (a passive checkpoint does not wait
                // for it): wait for it to end, then copy the rest, so that the WAL stays bounded when the disk is
                // slow. Under a test run's fsyncs one pass outlasted 30 commits, and the WAL grew unchecked.
                var waited = 0
                while sqlite_nio_sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) == SQLITE_BUSY, waited < 10_000 {
                    usleep(1000)
                    waited += 1
                }
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(checkpointer).toOpaque())
    }

    /// Whether a transaction is open (SQLite ends one by itself after some errors).
    var inTransaction: Bool { sqlite_nio_sqlite3_get_autocommit(db) == 0 }

    /// Copies this connection's database into `destination` with SQLite's online backup API, in one step: one
    /// read transaction, so the copy is one consistent moment while writers go on (WAL lets them).
    func backup(into destination: SQLiteHandle) throws {
        guard let backup = sqlite_nio_sqlite3_backup_init(destination.db, "main", db, "main") else {
            throw SQLiteFailure(code: sqlite_nio_sqlite3_errcode(destination.db), message: String(cString: sqlite_nio_sqlite3_errmsg(destination.db)))
        }
        var status = SQLITE_OK
        repeat {
            status = sqlite_nio_sqlite3_backup_step(backup, -1)
            if status == SQLITE_BUSY || status == SQLITE_LOCKED { sqlite_nio_sqlite3_sleep(20) }
        } while status == SQLITE_OK || status == SQLITE_BUSY || status == SQLITE_LOCKED
        let finished = sqlite_nio_sqlite3_backup_finish(backup)
        guard status == SQLITE_DONE, finished == SQLITE_OK else { throw failure(status == SQLITE_DONE ? finished : status) }
    }

    /// Runs SQL without keeping a prepared statement (schema changes, pragmas): several statements allowed.
    func execute(_ sql: String) throws {
        let status = sqlite_nio_sqlite3_exec(db, sql, nil, nil, nil)
        guard status == SQLITE_OK else { throw failure(status) }
    }

    /// Runs one statement with `binds` for its `?` parameters, returning its rows.
    @discardableResult
    func query(_ sql: String, _ binds: [SQLiteData] = []) throws -> [StoredRow] {
        let statement = try prepared(sql)
        let raw = statement.raw
        // Every parameter is bound anew below, so the old values need no clearing (which would also make
        // SQLite prepare again a statement whose plan looked at a bound value).
        defer { sqlite_nio_sqlite3_reset(raw) }
        guard binds.count == sqlite_nio_sqlite3_bind_parameter_count(raw) else {
            throw SQLiteFailure(code: SQLITE_RANGE, message: "\(binds.count) values for the statement's \(sqlite_nio_sqlite3_bind_parameter_count(raw)) parameters")
        }
        for (offset, value) in binds.enumerated() {
            let index = Int32(offset + 1), status: Int32
            switch value {
            case .integer(let number): status = sqlite_nio_sqlite3_bind_int64(raw, index, Int64(number))
            case .float(let number): status = sqlite_nio_sqlite3_bind_double(raw, index, number)
            case .text(let text): status = sqlite_nio_sqlite3_bind_text64(raw, index, text, UInt64(text.utf8.count), transient, UInt8(SQLITE_UTF8))
            case .null: status = sqlite_nio_sqlite3_bind_null(raw, index)
            case .blob(let buffer):
                status = buffer.withUnsafeReadableBytes {
                    sqlite_nio_sqlite3_bind_blob64(raw, index, $0.baseAddress, UInt64($0.count), transient)
                }
            }
            guard status == SQLITE_OK else { throw failure(status) }
        }
        var rows: [StoredRow] = []
        while true {
            let status = sqlite_nio_sqlite3_step(raw)
            if status == SQLITE_DONE { return rows }
            guard status == SQLITE_ROW else { throw failure(status) }
            var values: [SQLiteData] = []
            values.reserveCapacity(statement.columns.count)
            for column in 0..<Int32(statement.columns.count) { values.append(value(raw, column)) }
            rows.append(StoredRow(columns: statement.columns, values: values))
        }
    }

    private func prepared(_ sql: String) throws -> Statement {
        if let statement = statements[sql] { return statement }
        var raw: OpaquePointer?
        let status = sqlite_nio_sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard status == SQLITE_OK, let raw else { throw failure(status) }
        let statement = Statement(raw: raw)
        statements[sql] = statement
        return statement
    }

    private func value(_ raw: OpaquePointer, _ column: Int32) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(raw, column) {
        case SQLITE_INTEGER: return .integer(Int(sqlite_nio_sqlite3_column_int64(raw, column)))
        case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(raw, column))
        case SQLITE_TEXT:
            guard let text = sqlite_nio_sqlite3_column_text(raw, column) else { return .text("") }
            let count = Int(sqlite_nio_sqlite3_column_bytes(raw, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(raw, column))
            guard let bytes = sqlite_nio_sqlite3_column_blob(raw, column), count > 0 else { return .blob(ByteBuffer()) }
            return .blob(ByteBuffer(bytes: UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    private func failure(_ status: Int32) -> SQLiteFailure {
        SQLiteFailure(code: sqlite_nio_sqlite3_extended_errcode(db), message: String(cString: sqlite_nio_sqlite3_errmsg(db)))
    }
}

/// SQLite copies bound text and blobs (`SQLITE_TRANSIENT`).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
