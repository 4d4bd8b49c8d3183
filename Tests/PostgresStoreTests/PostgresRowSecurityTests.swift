import Foundation
import IdentityCore
import PostgresNIO
import PostgresStore
import StoreTestSupport
import Testing
import TestServices

/// PostgreSQL's second wall between tenants: row-level security keyed by the transaction's `app.tenant_id`.
/// Runs whenever the suite has a PostgreSQL server (always in CI).
@Suite(.enabled(if: TestServers.postgresURL != nil || TestServers.isCI))
struct PostgresRowSecurityTests {
    @Test func aQueryWithoutTheTenantSettingSeesNothing() async throws {
        let url = try TestPostgres.freshDatabase()
        let store = try PostgresStore.connect(url: url)
        try await store.migrate()
        let t0 = Fixture.t0
        try await store.createTenant(Fixture.tenant(), adminKeyHash: "h1", keys: [Fixture.key(kid: "k1", state: .active)])
        try await store.createTenant(Fixture.tenant("umbrella"), adminKeyHash: "h2", keys: [])
        try await store.createClient(Fixture.client())
        try await store.createUser(Fixture.user())
        try await store.createSession(Fixture.session(), firstToken: Fixture.token(key: "r1"))
        try await store.appendEvents([AuditEvent(tenantID: "acme", kind: .tokenIssued, time: t0)])
        try await store.saveCode(AuthorizationCode(tenantID: "acme", codeHash: "c1", clientID: "web", redirectURI: "https://app.test/cb",
                                                   codeChallenge: "x", nonce: nil, scopes: [], userID: "usr_1", acr: .pwd, amr: ["pwd"],
                                                   authTime: t0, dpopJKT: nil, browserSessionID: nil, createdAt: t0, expiresAt: t0 + 60))
        try await store.createBrowserSession(BrowserSession(tenantID: "acme", id: "bs_1", secretHash: "h", userID: "usr_1", acr: .pwd,
                                                            amr: ["pwd"], authTime: t0, createdAt: t0, expiresAt: t0 + 60))
        try await store.saveConsent(Consent(tenantID: "acme", userID: "usr_1", clientID: "web", scopes: ["openid"], grantedAt: t0))
        try await store.enqueueWebhook(WebhookDelivery(tenantID: "acme", id: "whd_1", body: "{}", createdAt: t0, nextAttemptAt: t0))
        try await store.close()

        try await TestServers.withPostgres(url) { client in
            func count(_ table: String, tenant: String?) async throws -> Int {
                try await client.withTransaction(logger: .init(label: "test")) { db in
                    if let tenant { try await db.query("SELECT set_config('app.tenant_id', \(tenant), true)", logger: .init(label: "test")) }
                    let rows = try await db.query(PostgresQuery(unsafeSQL: "SELECT count(*) AS n FROM \(table)"), logger: .init(label: "test")).collect()
                    return try rows[0].makeRandomAccess()["n"].decode(Int.self)
                }
            }
            for table in ["tenants", "signing_keys", "clients", "users", "sessions", "refresh_tokens", "events", "authorization_codes",
                          "browser_sessions", "consents", "webhook_outbox"] {
                #expect(try await count(table, tenant: nil) == 0, "\(table) is visible without app.tenant_id")
                #expect(try await count(table, tenant: "umbrella") == (table == "tenants" ? 1 : 0), "\(table) leaks across tenants")
                #expect(try await count(table, tenant: "acme") >= 1, "\(table) hides the tenant's own rows")
                // Finding 10: '*' used to be the setting that opened every tenant; a tenant id from a URL
                // could name it. It is a tenant id like any other now.
                #expect(try await count(table, tenant: "*") == 0, "\(table) is visible to app.tenant_id = '*'")
            }
            // Writes are walled too: without the setting an UPDATE touches nothing.
            let updated = try await client.query("UPDATE sessions SET status = 'revoked' RETURNING id").collect()
            #expect(updated.isEmpty)
            // The role the tests connect as is an ordinary one: the wall is not bypassed.
            let role = try await client.query("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").collect()
            #expect(try role[0].makeRandomAccess()["rolsuper"].decode(Bool.self) == false)
            #expect(try role[0].makeRandomAccess()["rolbypassrls"].decode(Bool.self) == false)
        }
    }

    @Test func migrationsAreIdempotentAndRefuseANewerSchema() async throws {
        let url = try TestPostgres.freshDatabase()
        let first = try PostgresStore.connect(url: url), second = try PostgresStore.connect(url: url)
        // Two nodes migrating at once: the advisory lock lets one apply, the other finds nothing to do.
        async let a: Void = first.migrate()
        async let b: Void = second.migrate()
        _ = try await (a, b)
        try await TestServers.withPostgres(url) { client in
            let rows = try await client.query("SELECT count(*) AS n, max(version) AS v FROM schema_migrations").collect()
            #expect(try rows[0].makeRandomAccess()["n"].decode(Int.self) == rows[0].makeRandomAccess()["v"].decode(Int.self))
            try await client.query("INSERT INTO schema_migrations (version, applied_at) VALUES (999, now())")
        }
        await #expect(throws: StoreError.self) { try await first.migrate() }
        do {
            try await first.migrate()
        } catch StoreError.schemaTooNew(let found, _) {
            #expect(found == 999)
        }
        try await first.close()
        try await second.close()
    }
}
