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
