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
/// - the WAL is copied back into the database file by a thread of its own (`WALCheckpointer`), not by the
///   commit that happens to cross SQLite's threshold: that commit, and every write queued behind it, used to
///   wait for the copy and its fsync.
final class SQLiteDatabase: Sendable {
    let path: String
    private let readers = Mutex<[SQLiteHandle]>([])
    private let writer: SQLiteHandle
    private let writerThread: NIOThreadPool
    private let queue = Mutex<(jobs: [WriteJob], draining: Bool)>(([], false))
    let checkpointer: WALCheckpointer

    /// Most jobs one transaction takes, so that a burst does not make the first caller wait for all of it.
    static let batchLimit = 256
    /// Reader connections kept open when idle.
    static let idleReaders = 8

    init(path: String, pragmas: [String], checkpointPages: (background: Int32, writer: Int32) = (1000, 8000)) throws {
        self.path = path
        writer = try SQLiteHandle(path: path)
        for pragma in pragmas { try writer.execute(pragma) }
        checkpointer = WALCheckpointer(path: path, threshold: checkpointPages.background, writerLimit: checkpointPages.writer)
        writer.onCommit(checkpointer)
        writerThread = NIOThreadPool(numberOfThreads: 1)
        writerThread.start()
    }

    func close() async throws {
        try await write { _ in }  // what is queued before this is written
        try await writerThread.shutdownGracefully()
        try await checkpointer.close()
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

/// Copies the WAL back into the database file on a thread of its own, with a connection of its own, once a
/// commit has left `threshold` pages in it. SQLite's own automatic checkpoint (off once this is installed)
/// ran in the writer, after the commit that crossed the threshold: that commit, and every write queued behind
/// it, waited for the copy and two fsyncs, every 1,000 pages. A passive checkpoint waits for no reader and
/// no writer; the writer goes on appending meanwhile.
///
/// SQLite starts the WAL over only at a write that finds all of it copied, which under a steady stream of
/// writes never happens while another thread copies. So when the WAL reaches `writerLimit` pages, the writer
/// checkpoints itself, as SQLite would have, after waiting for a pass of this thread still running (on a slow
/// disk one pass can outlast many commits): by then this thread has copied all but the last few frames, the
/// writer's copy is short, and its next write starts the WAL over. The file stays under ~32 MB (4 KiB pages).
final class WALCheckpointer: Sendable {
    /// WAL pages after which this thread copies, and after which the writer does.
    let threshold: Int32, writerLimit: Int32
    private let path: String
    private let thread: NIOThreadPool
    /// Whether a checkpoint is queued or running, and this thread's connection.
    private let state = Mutex<(busy: Bool, handle: SQLiteHandle?)>((false, nil))
    /// Checkpoints run so far by this thread, for tests.
    let completed = Atomic<Int>(0)

    init(path: String, threshold: Int32 = 1000, writerLimit: Int32 = 8000) {
        self.path = path
        self.threshold = threshold
        self.writerLimit = writerLimit
        thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    /// Called by SQLite on the writer thread after each commit, with the WAL's size in pages; true when the
    /// writer must checkpoint itself.
    func committed(walPages: Int32) -> Bool {
        guard walPages >= threshold else { return false }
        // Past the limit the writer copies the rest itself; a pass started here would hold the lock it needs.
        if walPages >= writerLimit { return true }
        let start = state.withLock { state -> Bool in
            defer { state.busy = true }
            return !state.busy
        }
        if start { thread.submit { _ in self.run() } }
        return false
    }

    private func run() {
        let handle = state.withLock { state -> SQLiteHandle? in
            if state.handle == nil { state.handle = try? SQLiteHandle(path: path) }
            return state.handle
        }
        // A failure (busy, I/O) leaves the frames in the WAL for the next pass.
        if let handle, (try? handle.execute("PRAGMA wal_checkpoint(PASSIVE)")) != nil {
            completed.add(1, ordering: .relaxed)
        }
        state.withLock { $0.busy = false }
    }

    func close() async throws {
        try await thread.shutdownGracefully()
        state.withLock { $0.handle = nil }
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
