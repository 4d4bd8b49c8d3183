import Foundation
import SQLiteNIO
import Synchronization
import VaporCSQLite

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
