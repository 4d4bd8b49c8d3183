import Foundation
import IdentityCore
import PostgresNIO
import PostgresStore
import StoreTestSupport
import Testing
import TestServices

/// What the PostgreSQL store reads and what it leaves behind, seen in the database itself.
@Suite(.enabled(if: TestServers.postgresURL != nil || TestServers.isCI))
struct PostgresStorageTests {
    /// PostgreSQL plans the refresh functions' statements and the foreign-key checks once per connection, and a
    /// new deployment plans them before its tables have statistics; with `plan_cache_mode = force_generic_plan`
    /// on the database, this test sees those plans from the first call.
    @Test func aRotationReadsItsOwnSessionNotTheTenants() async throws {
        let url = try TestPostgres.freshDatabase()
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

        // Each lookup reads one session and each rotation slides it: 40 scans of one row each (no foreign-key
        // checks since migration 9). Reading the tenant's sessions per scan would be thousands of rows. A
        // closed connection's backend reports its counts as it exits, so wait for them.
        let scans = 2 * rotated
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

    /// Refresh tokens have no foreign key to their sessions (migration 9): the purge and a tenant's deletion
    /// delete them themselves, and leave no row behind that no session owns.
    @Test func deletedSessionsAndTenantsLeaveNoRefreshTokenRows() async throws {
        let url = try TestPostgres.freshDatabase()
        let store = try PostgresStore.connect(url: url)
        try await store.migrate()
        for tenant in ["acme", "umbrella"] {
            try await store.createTenant(Fixture.tenant(tenant), adminKeyHash: "h-\(tenant)", keys: [])
            try await store.createClient(Fixture.client(tenant))
            try await store.createUser(Fixture.user(tenant))
            try await store.createSession(Fixture.session(tenant, id: "old", idle: 10), firstToken: Fixture.token(tenant, key: "o1", session: "old"))
            try await store.createSession(Fixture.session(tenant, id: "live"), firstToken: Fixture.token(tenant, key: "l1", session: "live"))
            // Rotated "earlier", so that its slide leaves it idle-expired at +50 and its access tokens at +10.
            #expect(try await store.applyRefresh(Fixture.rotation(of: "o1", to: "o2", at: -50, session: "old", tenant: tenant)) == .applied)
        }
        func tokens() async throws -> [String] {
            try await TestServers.withPostgres(url) { client in
                try await client.withTransaction(logger: .init(label: "test")) { db in
                    try await db.query("SELECT set_config('app.cross_tenant', 'on', true)", logger: .init(label: "test"))
                    return try await db.query("SELECT tenant_id || '/' || lookup_key AS k FROM refresh_tokens ORDER BY 1", logger: .init(label: "test"))
                        .collect().map { try $0.makeRandomAccess()["k"].decode(String.self) }
                }
            }
        }
        #expect(try await tokens() == ["acme/l1", "acme/o1", "acme/o2", "umbrella/l1", "umbrella/o1", "umbrella/o2"])
        // Both "old" sessions and their two tokens each; nothing else is past its expiry.
        #expect(try await store.purgeExpired(now: Fixture.t0 + 61, batch: 100) == 6)
        #expect(try await tokens() == ["acme/l1", "umbrella/l1"])
        #expect(try await store.deleteTenant(id: "acme"))
        #expect(try await tokens() == ["umbrella/l1"])
        try await store.close()
    }
}

/// Finding 12: `sslmode` values other than disable, require and verify-full are refused, not silently off.
@Suite struct PostgresSettingsTests {
    @Test func onlyKnownSSLModesAreAccepted() throws {
        #expect(try PostgresStore.Settings(url: "postgres://u:p@db:5432/x").tlsMode == .disable)
        #expect(try PostgresStore.Settings(url: "postgres://u:p@db:5432/x?sslmode=require").tlsMode == .require)
        #expect(try PostgresStore.Settings(url: "postgres://u:p@db:5432/x?sslmode=verify-full").tlsMode == .verifyFull)
        for mode in ["verify-ca", "prefer", "allow", "REQUIRE", ""] {
            #expect(throws: StoreError.self, "\(mode)") { try PostgresStore.Settings(url: "postgres://u:p@db:5432/x?sslmode=\(mode)") }
        }
    }
}
