import Foundation
import IdentityCore
import PostgresNIO
import PostgresStore
import Testing

/// How much of the database the refresh grant reads. PostgreSQL plans the refresh functions' statements and the
/// foreign-key checks once per connection, and a new deployment plans them before its tables have statistics;
/// with `plan_cache_mode = force_generic_plan` on the database, this test sees those plans from the first call.
@Suite(.enabled(if: TestServers.postgresURL != nil || TestServers.isCI))
struct PostgresPlanTests {
    @Test func aRotationReadsItsOwnSessionNotTheTenants() async throws {
        let url = try await TestServers.freshPostgresDatabase()
        try await TestServers.withPostgres(url) { client in
            let database = try await client.query("SELECT current_database() AS d").collect()[0].makeRandomAccess()["d"].decode(String.self)
            try await client.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \"\(database)\" SET plan_cache_mode = force_generic_plan"))
        }
        let store = try PostgresStore.connect(url: url)
        try await store.migrate()
        try await store.createTenant(Fixture.tenant(), adminKeyHash: "h1", keys: [Fixture.key(kid: "k1", state: .active)])
        try await store.createClient(Fixture.client())
        try await store.createUser(Fixture.user())
        let sessions = 60, rotated = 20
        for i in 0..<sessions {
            try await store.createSession(Fixture.session(id: "sid_\(i)"), firstToken: Fixture.token(key: "r\(i)", session: "sid_\(i)"))
        }
        for i in 0..<rotated {
            #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "r\(i)")?.1.id == "sid_\(i)")
            let write = Fixture.rotation(of: "r\(i)", to: "r\(i)-next", at: 1, session: "sid_\(i)")
            #expect(try await store.applyRefresh(write) == .applied)
        }
        try await store.close()

        // Each session insert's token checks its session (1 index scan), each lookup reads one session, each
        // rotation slides it and checks it for the successor's key (2): 120 scans of one row each. Reading the
        // tenant's sessions per scan instead would be thousands. A closed connection's backend reports its
        // counts as it exits, so wait for them.
        let scans = sessions + 3 * rotated
        try await TestServers.withPostgres(url) { client in
            var read = 0, scanned = 0
            for _ in 0..<100 {
                _ = try await client.query("SELECT pg_stat_clear_snapshot()").collect()
                let row = try await client.query("""
                    SELECT COALESCE(sum(idx_scan), 0)::int8 AS scans, COALESCE(sum(idx_tup_read), 0)::int8 AS read
                    FROM pg_stat_user_indexes WHERE relname = 'sessions'
                    """).collect()[0].makeRandomAccess()
                scanned = try row["scans"].decode(Int.self)
                read = try row["read"].decode(Int.self)
                if scanned >= scans { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(scanned >= scans, "the statistics never arrived")
            #expect(read <= scanned + 10, "\(read) session index entries read in \(scanned) scans")
        }
    }
}
