import Foundation
import Synchronization
import Testing
import TestServices

/// Nodes sharing one database (and Redis): the first generates the admin token and master key, the others
/// are given them, as a deployment would.
func startNodes(_ count: Int, environment: [String: String]) async throws -> [ServerProcess] {
    let masterKey = environment["IDENTITY_MASTER_KEY"] ?? ServerProcess.testMasterKey
    let first = try ServerProcess(environment: environment.merging(["IDENTITY_MASTER_KEY": masterKey]) { $1 })
    try await first.waitUntilReady()
    var nodes = [first]
    for _ in 1..<count {
        let node = try ServerProcess(environment: environment.merging(["IDENTITY_ADMIN_TOKEN": first.adminToken, "IDENTITY_MASTER_KEY": masterKey]) { $1 })
        try await node.waitUntilReady()
        nodes.append(node)
    }
    return nodes
}

/// A refresh, introspection or client_credentials call to one node.
func tokenCall(_ node: String, tenant: String = "acme", _ endpoint: String, client: (String, String), _ pairs: [(String, String)]) async throws -> HTTP.Response {
    try await HTTP.send("POST", node + "/t/\(tenant)/oauth/\(endpoint)",
                        headers: ["Content-Type": "application/x-www-form-urlencoded", "Authorization": HTTP.basic(client.0, client.1)],
                        body: HTTP.form(pairs))
}

/// Three identityd nodes on one PostgreSQL and one Redis behind nginx (deploy/nginx/identityd.conf).
extension SharedServerTests {
@Suite(.enabled(if: TestRedis.enabled))
struct MultiNodeEndToEndTests {
    @Test func threeNodesBehindNginxShareRevocationsPoliciesAndReuseDetection() async throws {
        // Every node issues tokens for the one public URL, nginx's.
        let port = try ServerProcess.freePort()
        let nodes = try await startNodes(3, environment: ["IDENTITY_STORE": try TestPostgres.freshDatabase(), "IDENTITY_CACHE": try TestRedis.requireURL(),
                                                          "IDENTITY_TRUSTED_PROXIES": "127.0.0.1/32", "IDENTITY_PUBLIC_URL": "http://127.0.0.1:\(port)"])
        let (a, b, c) = (nodes[0], nodes[1], nodes[2])
        let nginx = try TestNginx(upstreams: nodes, port: port)
        defer { nginx.stop() }
        try await nginx.waitUntilReady()
        let w = Walkthrough(a, base: nginx.base)
        let key = try await w.createTenant("acme", policy: #"{"refresh_reuse_grace": 0}"#)
        let secret = try await w.createClient("acme", id: "web", key: key)
        _ = try await w.createUser("acme", username: "alice", password: "correct horse battery", key: key)
        let web = ("web", secret)
        let login: [(String, String)] = [("grant_type", "password"), ("username", "alice"), ("password", "correct horse battery")]

        let viaNginx = try await w.oauth("acme", "token", client: web, [("grant_type", "client_credentials")])
        #expect(viaNginx.status == 200)

        // 1. A session revoked through A is refused by B and C: the worst time, over 100 trials, from A's answer
        //    to both B and C answering "inactive".
        //    (Each node has served the tenant once before, as nodes of a live deployment have.)
        for node in nodes { #expect(try await tokenCall(node.base, "token", client: web, [("grant_type", "client_credentials")]).status == 200) }
        var times: [Double] = []
        for trial in 0..<100 {
            let session = try await tokenCall(nodes[trial % 3].base, "token", client: web, login)
            let access = try #require(session["access_token"])
            let sid = try #require(jwtClaims(access)["sid"] as? String)
            #expect(try await tokenCall(b.base, "introspect", client: web, [("token", access)]).json["active"] as? Bool == true)
            let revoke = try await HTTP.send("DELETE", a.base + "/admin/v1/tenants/acme/sessions/\(sid)", headers: ["Authorization": "Bearer \(key)"])
            #expect(revoke.status == 204 || revoke.status == 200)
            let revokedAt = Date()
            // B and C asked at once; each until it refuses. The time is when its refusal arrived.
            let elapsed = try await withThrowingTaskGroup(of: Double.self) { group in
                for node in [b, c] {
                    group.addTask {
                        while try await tokenCall(node.base, "introspect", client: web, [("token", access)]).json["active"] as? Bool != false {
                            guard Date().timeIntervalSince(revokedAt) < 5 else { Issue.record("trial \(trial): not revoked after 5 s"); break }
                        }
                        return Date().timeIntervalSince(revokedAt)
                    }
                }
                return try await group.reduce(0) { max($0, $1) }
            }
            times.append(elapsed)
        }
        times.sort()
        let worst = times.last ?? 0
        func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
        print("revocation propagation over 100 trials (A's answer → both B and C refuse): worst \(ms(worst)), p50 \(ms(times[50])), p90 \(ms(times[90]))")
        #expect(worst < 0.1)

        // 2. A policy change made on A governs the tokens C issues on the very next request.
        for ttl in [321, 654, 987] {
            let put = try await HTTP.send("PUT", a.base + "/admin/v1/tenants/acme/policy",
                                          headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"],
                                          body: Data(#"{"refresh_reuse_grace": 0, "access_token_ttl": \#(ttl)}"#.utf8))
            #expect(put.status == 200)
            let issued = try await tokenCall(c.base, "token", client: web, [("grant_type", "client_credentials")])
            let claims = jwtClaims(try #require(issued["access_token"]))
            let lifetime = ((claims["exp"] as? Int) ?? 0) - ((claims["iat"] as? Int) ?? 0)
            #expect(lifetime == ttl, "C issued a token for \(lifetime) s after A set \(ttl) s")
        }

        // 3. Reuse of a rotated token through B revokes the family on every node.
        let first = try await tokenCall(a.base, "token", client: web, login)
        let rotated = try await tokenCall(c.base, "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", first["refresh_token"]!)])
        #expect(rotated.status == 200)
        let reuse = try await tokenCall(b.base, "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", first["refresh_token"]!)])
        #expect(reuse.status == 400 && reuse["error"] == "invalid_grant")
        for node in nodes {
            let next = try await tokenCall(node.base, "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", rotated["refresh_token"]!)])
            #expect(next.status == 400, "the family's live token still refreshes on \(node.port)")
            #expect(try await tokenCall(node.base, "introspect", client: web, [("token", rotated["access_token"]!)]).json["active"] as? Bool == false)
        }

        for node in nodes { #expect(await node.stop() == 0) }
        for node in nodes { for secret in w.secrets { #expect(!node.log.contains(secret)) } }
    }

    @Test func rateLimitsAreCountedAcrossNodes() async throws {
        let port = try ServerProcess.freePort()
        let nodes = try await startNodes(3, environment: ["IDENTITY_STORE": try TestPostgres.freshDatabase(), "IDENTITY_CACHE": try TestRedis.requireURL(),
                                                          "IDENTITY_PUBLIC_URL": "http://127.0.0.1:\(port)"])
        let nginx = try TestNginx(upstreams: nodes, port: port)
        defer { nginx.stop() }
        try await nginx.waitUntilReady()
        let w = Walkthrough(nodes[0], base: nginx.base)
        let tenant = "limited" + UUID().uuidString.prefix(6).lowercased()  // counters live in the shared Redis
        let key = try await w.createTenant(tenant, policy: """
            {"rate_limit": {"token_requests_per_client": 5, "window": 60, "failed_logins_per_user": 3, "failed_login_backoff": 30}}
            """)
        let secret = try await w.createClient(tenant, id: "web", key: key)
        _ = try await w.createUser(tenant, username: "bob", password: "correct horse battery", key: key)

        // Five token requests per client and minute, wherever they land; the sixth is refused.
        var statuses: [Int] = []
        var refused: HTTP.Response?
        for index in 0..<6 {
            let response = try await tokenCall(nodes[index % 3].base, tenant: tenant, "token", client: ("web", secret), [("grant_type", "client_credentials")])
            statuses.append(response.status)
            if response.status == 429 { refused = response }
        }
        #expect(statuses == [200, 200, 200, 200, 200, 429])
        #expect(refused?["error"] == "rate_limited")
        let retryAfter = Int(refused?.header("Retry-After") ?? "") ?? 0
        #expect(retryAfter >= 1 && retryAfter <= 60)

        // Failed logins per user: three wrong passwords (on three nodes) lock the username out, even for the
        // right password, for the back-off.
        let other = try await w.createClient(tenant, id: "other", key: key)
        for index in 0..<3 {
            let wrong = try await tokenCall(nodes[index].base, tenant: tenant, "token", client: ("other", other),
                                            [("grant_type", "password"), ("username", "bob"), ("password", "wrong password \(index)")])
            #expect(wrong.status == 400)
        }
        let locked = try await tokenCall(nodes[0].base, tenant: tenant, "token", client: ("other", other),
                                         [("grant_type", "password"), ("username", "bob"), ("password", "correct horse battery")])
        #expect(locked.status == 429)
        let lockout = Int(locked.header("Retry-After") ?? "") ?? 0
        #expect(lockout >= 25 && lockout <= 30, "Retry-After \(lockout)")
        for node in nodes { #expect(await node.stop() == 0) }
    }

    @Test func redisGoingAwayUnderLoadFallsBackToTheDatabaseAndResumes() async throws {
        let nodes = try await startNodes(2, environment: ["IDENTITY_STORE": try TestPostgres.freshDatabase() + "?operation_timeout=3",
                                                          "IDENTITY_CACHE": try TestRedis.requireURL(), "IDENTITY_PUBLIC_URL": "https://id.example.test"])
        let (a, b) = (nodes[0], nodes[1])
        let w = Walkthrough(a)
        let key = try await w.createTenant("acme")
        let secret = try await w.createClient("acme", id: "web", key: key)
        _ = try await w.createUser("acme", username: "alice", password: "correct horse battery", key: key)
        let web = ("web", secret)
        let login: [(String, String)] = [("grant_type", "password"), ("username", "alice"), ("password", "correct horse battery")]
        func session() async throws -> (access: String, sid: String) {
            let access = try #require(try await tokenCall(a.base, "token", client: web, login)["access_token"])
            return (access, try #require(jwtClaims(access)["sid"] as? String))
        }
        func revoke(_ sid: String, on node: ServerProcess) async throws {
            let response = try await HTTP.send("DELETE", node.base + "/admin/v1/tenants/acme/sessions/\(sid)", headers: ["Authorization": "Bearer \(key)"])
            #expect(response.status == 204 || response.status == 200)
        }
        let revokedBefore = try await session(), live = try await session(), revokedDuring = try await session()
        try await revoke(revokedBefore.sid, on: b)

        // Load on A: introspection of a revoked and a live token, on threads of their own, all along.
        let load = IntrospectionLoad(base: a.base, client: web, revoked: [revokedBefore.access], live: [live.access])
        load.start()
        defer { load.halt() }
        try await Task.sleep(for: .milliseconds(500))

        try await TestRedis.server("stop")
        var degraded = false
        for _ in 0..<40 where !degraded {
            try await Task.sleep(for: .milliseconds(50))
            degraded = try await HTTP.send("GET", a.base + "/readyz").json["status"] as? String == "degraded"
        }
        #expect(degraded, "readyz did not report degraded")
        // Revoked on B while Redis is down: the database has it, and A's checks go to the database.
        try await revoke(revokedDuring.sid, on: b)
        load.addRevoked(revokedDuring.access)
        try await Task.sleep(for: .seconds(1))
        let duringOutage = load.tally.withLock { $0 }

        try await TestRedis.server("start")
        let restarted = Date()
        var ready = false
        while !ready && Date().timeIntervalSince(restarted) < 10 {
            try await Task.sleep(for: .milliseconds(50))
            ready = try await HTTP.send("GET", a.base + "/readyz").json["status"] as? String == "ready"
        }
        let recovery = Date().timeIntervalSince(restarted)
        #expect(ready, "readyz did not return to ready")
        try await Task.sleep(for: .milliseconds(500))
        await load.stop()
        let final = load.tally.withLock { $0 }
        print("redis down: \(duringOutage.checks) introspections while down, \(final.checks) in all, \(final.wrong.count) wrong; ready again \(String(format: "%.2f", recovery)) s after Redis restarted")

        #expect(final.wrong.isEmpty, "\(final.wrong.prefix(5))")
        #expect(duringOutage.checks > 0)
        // Redis came back empty; A refilled it from the database, B's revocation included.
        #expect(try TestRedis.cli("EXISTS", "rev:acme:sid:\(revokedDuring.sid)") == "1")
        #expect(try await tokenCall(a.base, "introspect", client: web, [("token", revokedDuring.access)]).json["active"] as? Bool == false)
        #expect(try await tokenCall(a.base, "introspect", client: web, [("token", live.access)]).json["active"] as? Bool == true)
        for node in nodes { #expect(await node.stop() == 0) }
        // Logged once per change of state.
        for node in nodes {
            #expect(node.log.components(separatedBy: "redis unreachable").count - 1 == 1, "\(node.log.suffix(2000))")
            #expect(node.log.components(separatedBy: "redis reachable again").count - 1 == 1)
        }
    }
}
}

/// Introspection from plain threads: every answer for a revoked token must be inactive and for a live one
/// active, whatever happens to Redis.
final class IntrospectionLoad: LoadThreads, @unchecked Sendable {
    struct Tally { var checks = 0, wrong: [String] = [] }
    let tally = Mutex(Tally())
    private let revoked: Mutex<[String]>
    private let live: [String]
    let base: String, client: (String, String)

    init(base: String, client: (String, String), revoked: [String], live: [String]) {
        self.base = base
        self.client = client
        self.revoked = Mutex(revoked)
        self.live = live
        super.init()
    }

    func addRevoked(_ token: String) { revoked.withLock { $0.append(token) } }

    func start() {
        start(2) { _ in self.drive() }
    }

    private func drive() {
        while !isDone {
            let cases = revoked.withLock { $0 }.map { ($0, false) } + live.map { ($0, true) }
            for (token, expected) in cases {
                let answer = try? HTTP.sendBlocking("POST", base + "/t/acme/oauth/introspect",
                    headers: ["Content-Type": "application/x-www-form-urlencoded", "Authorization": HTTP.basic(client.0, client.1)],
                    body: HTTP.form([("token", token)]))
                tally.withLock { t in
                    t.checks += 1
                    if answer?.status != 200 || answer?.json["active"] as? Bool != expected {
                        t.wrong.append("\(answer?.status ?? 0) \(answer?.text ?? "no answer") for a token expected \(expected ? "active" : "inactive")")
                    }
                }
            }
        }
    }
}
