import Foundation
import SQLiteNIO
import Synchronization
import VaporCSQLite

/// An SQLite database file through SQLite's C API (the library sqlite-nio bundles, called directly):
///
/// - every connection prepares each statement once and keeps it (sqlite-nio prepared every query anew);
/// - reads run on the calling thread, on a reader connection checked out for the one statement: a point read
///   with a prepared statement takes microseconds, less than the two thread hand-offs it used to cost, and a
///   statement stepped to its end leaves no read transaction open, so every read sees what was committed before;
/// - writes queue for the one writer connection, on a thread of its own, which commits what queued up while
///   it was busy as one transaction (group commit), each job in a savepoint of its own so that a job that
///   fails leaves nothing behind and does not fail the others. A job's result is reported after the commit.
final class SQLiteDatabase: Sendable {
    let path: String
    private let readers = Mutex<[SQLiteHandle]>([])
    private let writer: SQLiteHandle
    private let writerThread: NIOThreadPool
    private let queue = Mutex<(jobs: [WriteJob], draining: Bool)>(([], false))

    /// Most jobs one transaction takes, so that a burst does not make the first caller wait for all of it.
    static let batchLimit = 256
    /// Reader connections kept open when idle.
    static let idleReaders = 8

    init(path: String, pragmas: [String]) throws {
        self.path = path
        writer = try SQLiteHandle(path: path)
        for pragma in pragmas { try writer.execute(pragma) }
        writerThread = NIOThreadPool(numberOfThreads: 1)
        writerThread.start()
    }

    func close() async throws {
        try await write { _ in }  // what is queued before this is written
        try await writerThread.shutdownGracefully()
        readers.withLock { $0.removeAll() }
    }

    /// Runs `body` on a reader connection on this thread.
    func read<T>(_ body: (SQLiteHandle) throws -> T) throws -> T {
        let handle = try readers.withLock { $0.popLast() } ?? SQLiteHandle(path: path)
        defer { readers.withLock { if $0.count < Self.idleReaders { $0.append(handle) } } }
        return try body(handle)
    }

    /// Runs `body` on the writer thread inside the next group commit; returns after that commit.
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteHandle) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = WriteJob(body: body, continuation: continuation)
            let startDrain = queue.withLock { queue -> Bool in
                queue.jobs.append(job)
                defer { queue.draining = true }
                return !queue.draining
            }
            if startDrain { writerThread.submit { _ in self.drain() } }
        }
    }

    /// The writer thread: one transaction per batch of queued jobs until none are left.
    private func drain() {
        while true {
            let jobs = queue.withLock { queue -> [WriteJob] in
                let batch = Array(queue.jobs.prefix(Self.batchLimit))
                queue.jobs.removeFirst(batch.count)
                if batch.isEmpty { queue.draining = false }
                return batch
            }
            if jobs.isEmpty { return }
            do {
                try writer.query("BEGIN IMMEDIATE")
            } catch {
                for job in jobs { job.finish(committed: error) }
                continue
            }
            var batchError: (any Error)?
            for job in jobs {
                guard batchError == nil else { break }
                do {
                    try writer.query("SAVEPOINT job")
                    if job.run(on: writer) {
                        try writer.query("RELEASE job")
                    } else if writer.inTransaction {
                        try writer.query("ROLLBACK TO job")
                        try writer.query("RELEASE job")
                    } else {
                        // SQLite rolled the whole transaction back (I/O error, full disk): the batch is lost.
                        batchError = SQLiteFailure(code: SQLITE_ABORT, message: "transaction rolled back")
                    }
                } catch {
                    batchError = error
                }
            }
            do {
                if let batchError { throw batchError }
                try writer.query("COMMIT")
            } catch {
                batchError = error
                if writer.inTransaction { _ = try? writer.query("ROLLBACK") }
            }
            for job in jobs { job.finish(committed: batchError) }
        }
    }
}

/// A queued write: its body, then its result once the batch is committed (or the commit's error).
private final class WriteJob: @unchecked Sendable {
    // Touched by the writer thread only, and by `write` before it hands the job over.
    private let body: (SQLiteHandle) throws -> Void
    private var result: Result<Void, any Error> = .success(())
    private let resume: (Result<Void, any Error>) -> Void

    init<T: Sendable>(body: @escaping @Sendable (SQLiteHandle) throws -> T, continuation: CheckedContinuation<T, any Error>) {
        let value = ValueBox<T>()
        self.body = { value.value = try body($0) }
        resume = { outcome in continuation.resume(with: outcome.map { value.value! }) }
    }

    /// Runs the body; false if it failed (its savepoint is then rolled back).
    func run(on handle: SQLiteHandle) -> Bool {
        do {
            try body(handle)
            return true
        } catch {
            result = .failure(error)
            return false
        }
    }

    func finish(committed error: (any Error)?) {
        if let error, case .success = result { result = .failure(error) }
        resume(result)
    }
}

private final class ValueBox<T>: @unchecked Sendable {
    var value: T?
}

/// SQLite's error for a failed call: its extended result code and message.
struct SQLiteFailure: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    var isConstraint: Bool { code & 0xff == SQLITE_CONSTRAINT }
    var description: String { "sqlite error \(code): \(message)" }
}

/// One SQLite connection and the statements it has prepared, by SQL text. Used by one thread at a time: the
/// writer thread, or the reader that checked it out (hence the unchecked `Sendable`).
final class SQLiteHandle: @unchecked Sendable {
    private let db: OpaquePointer
    private var statements: [String: Statement] = [:]

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

    /// Whether a transaction is open (SQLite ends one by itself after some errors).
    var inTransaction: Bool { sqlite_nio_sqlite3_get_autocommit(db) == 0 }

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

/// A statement's column names, shared by its rows.
final class ColumnIndex: Sendable {
    let names: [String: Int]
    let count: Int
    init(names: [String: Int], count: Int) {
        self.names = names
        self.count = count
    }
}

/// One result row: its values, by column name.
struct StoredRow: Sendable {
    let columns: ColumnIndex
    let values: [SQLiteData]

    func column(_ name: String) -> SQLiteData? { columns.names[name].map { values[$0] } }
}
