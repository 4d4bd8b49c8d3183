import Foundation
@testable import SQLiteStore
import Testing

/// The SQLite store copies its WAL back into the database file on a thread of its own, and keeps the WAL
/// bounded under a steady stream of writes (SQLite only starts it over at a write that finds it all copied).
@Suite struct WALCheckpointTests {
    @Test func theWALIsCopiedInTheBackgroundAndStaysBounded() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("test.db").path
        let database = try SQLiteDatabase(path: path, pragmas: ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"],
                                          checkpointPages: (background: 100, writer: 400))
        try await database.write { _ = try $0.query("CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB NOT NULL)") }
        var largestWAL = 0
        // 1,000 rows of 4 KiB, ten per commit: about 1,000 pages through the WAL, 2.5 times the writer's limit.
        for commit in 0..<100 {
            try await database.write { handle in
                for row in 0..<10 { try handle.query("INSERT INTO filler (id, data) VALUES (?, zeroblob(4096))", [.integer(commit * 10 + row)]) }
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
            largestWAL = max(largestWAL, size)
        }
        #expect(database.checkpointer.completed.load(ordering: .relaxed) > 0)
        // The writer's limit plus the few commits (about 25 pages each) that land while the background copy
        // holds the checkpoint lock, in 4 KiB pages with their frame headers; unchecked, it would pass 1,000.
        #expect(largestWAL > 0 && largestWAL <= (400 + 200) * 4120, "the WAL grew to \(largestWAL) bytes")
        let count = try database.read { try $0.query("SELECT count(*) AS n FROM filler") }
        #expect(count.first?.values.first == .integer(1000))
        try await database.close()
    }
}
