import Foundation
import Synchronization
import Testing

/// `identityd backup FILE` against the real binary: taken while the server runs and rotates tokens, the copy
/// restores into a fresh server (with the master key, kept apart), where the token a client held at the time
/// of the backup still refreshes.
@Suite struct BackupEndToEndTests {
    @Test func aBackupTakenUnderLoadRestoresIntoAFreshServer() async throws {
        let server = try ServerProcess()
        try await server.waitUntilReady()
        let w = Walkthrough(server)
        let (_, web) = try await w.acmeWithAlice(policy: #"{"refresh_reuse_grace": 0}"#)
        func refresh(_ token: String, on w: Walkthrough) async throws -> HTTP.Response {
            try await w.oauth("acme", "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", token)])
        }
        let login = try await w.oauth("acme", "token", client: web, [("grant_type", "password"), ("username", "alice"),
                                                                     ("password", "correct horse battery")])
        let first = try #require(login["refresh_token"])
        let held = try #require(try await refresh(first, on: w)["refresh_token"])

        // Writes go on during the backup: another session rotating as fast as it can.
        let other = try #require(try await w.oauth("acme", "token", client: web, [("grant_type", "password"), ("username", "alice"),
                                                                                   ("password", "correct horse battery")])["refresh_token"])
        let busy = Atomic<Bool>(true)
        let writer = Task {
            var token = other, rotations = 0
            while busy.load(ordering: .relaxed), let next = try? await refresh(token, on: w)["refresh_token"] {
                token = next
                rotations += 1
            }
            return rotations
        }
        let restored = FileManager.default.temporaryDirectory.appendingPathComponent("identityd-restored-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: restored, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: restored) }
        let backup = try ServerProcess(environment: ["IDENTITY_STORE": "sqlite://\(server.dataDirectory.path)/identity.db"],
                                       arguments: ["backup", restored.appendingPathComponent("identity.db").path])
        let status = await backup.waitForExit()
        busy.store(false, ordering: .relaxed)
        let rotations = await writer.value
        #expect(status == 0, "\(backup.log.suffix(1000))")
        #expect(rotations > 0, "no writes ran during the backup")
        // After the backup the held token moves on in the original; the copy still has it current.
        #expect(try await refresh(held, on: w).status == 200)
        _ = await server.stop()

        // A fresh server on the copy, with the master key (a file of its own, backed up apart from the data).
        try FileManager.default.copyItem(at: server.dataDirectory.appendingPathComponent("master.key"),
                                         to: restored.appendingPathComponent("master.key"))
        let fresh = try ServerProcess(dataDirectory: restored)
        try await fresh.waitUntilReady()
        let again = Walkthrough(fresh)
        let answer = try await refresh(held, on: again)
        #expect(answer.status == 200, "\(answer.text)")
        #expect(try await again.oauth("acme", "token", client: web, [("grant_type", "client_credentials")]).status == 200)
        _ = await fresh.stop()

        // A backup to a file that exists is refused, naming it; so is a backup of PostgreSQL.
        let existing = try ServerProcess(environment: ["IDENTITY_STORE": "sqlite://\(restored.path)/identity.db"],
                                         arguments: ["backup", restored.appendingPathComponent("identity.db").path])
        #expect(await existing.waitForExit() != 0 && existing.log.contains("exists"))
        let postgres = try ServerProcess(environment: ["IDENTITY_STORE": "postgres://u:p@127.0.0.1:1/db", "IDENTITY_MASTER_KEY": ServerProcess.testMasterKey],
                                         arguments: ["backup", restored.appendingPathComponent("other.db").path])
        #expect(await postgres.waitForExit() != 0 && postgres.log.contains("pg_dump"), "\(postgres.log.suffix(500))")
    }
}
