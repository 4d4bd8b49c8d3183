import Foundation
import Synchronization
import Testing
import TestServices

/// identityd on PostgreSQL: several processes on one database, and the database going away under load.
extension SharedServerTests {
@Suite(.enabled(if: TestPostgres.enabled))
struct PostgresEndToEndTests {
    /// Two nodes, one tenant with a user and a client; returns the walkthrough (on node A) and the client secret.
    func twoNodes(policy: String) async throws -> (a: ServerProcess, b: ServerProcess, w: Walkthrough, secret: String) {
        let store = try TestPostgres.freshDatabase()
        let a = try ServerProcess(environment: ["IDENTITY_STORE": store])
        try await a.waitUntilReady()
        // Both get the test master key (ServerProcess gives every PostgreSQL node the same one).
        let b = try ServerProcess(environment: ["IDENTITY_STORE": store, "IDENTITY_ADMIN_TOKEN": a.adminToken])
        try await b.waitUntilReady()
        let w = Walkthrough(a)
        let key = try await w.createTenant("acme", policy: policy)
        let secret = try await w.createClient("acme", id: "web", key: key)
        _ = try await w.createUser("acme", username: "alice", password: "correct horse battery", key: key)
        return (a, b, w, secret)
    }

    /// 64 refreshes of one token at once, alternating between the nodes; the status of each.
    func race(_ token: String, on nodes: [ServerProcess], secret: String) async throws -> [HTTP.Response] {
        try await withThrowingTaskGroup(of: HTTP.Response.self) { group in
            for index in 0..<64 {
                let node = nodes[index % nodes.count]
                group.addTask {
                    try await HTTP.send("POST", node.base + "/t/acme/oauth/token",
                                        headers: ["Content-Type": "application/x-www-form-urlencoded", "Authorization": HTTP.basic("web", secret)],
                                        body: HTTP.form([("grant_type", "refresh_token"), ("refresh_token", token)]))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test func twoNodesRacingWithoutGraceHaveOneWinnerAndRevokeTheFamily() async throws {
        let (a, b, w, secret) = try await twoNodes(policy: #"{"refresh_reuse_grace": 0}"#)
        let login = try await w.oauth("acme", "token", client: ("web", secret),
                                      [("grant_type", "password"), ("username", "alice"), ("password", "correct horse battery")])
        let responses = try await race(try #require(login["refresh_token"]), on: [a, b], secret: secret)
        let winners = responses.filter { $0.status == 200 }
        print("race, grace 0: \(winners.count) × 200, \(responses.filter { $0.status == 400 }.count) × 400, others: \(responses.filter { ![200, 400].contains($0.status) }.map(\.status))")
        #expect(winners.count == 1)
        #expect(responses.allSatisfy { $0.status == 200 || ($0.status == 400 && $0["error"] == "invalid_grant") })
        // The losers' reuse revoked the family: the winner's successor is dead on both nodes.
        let successor = try #require(winners.first?["refresh_token"])
        for node in [a, b] {
            let refresh = try await HTTP.send("POST", node.base + "/t/acme/oauth/token",
                                              headers: ["Content-Type": "application/x-www-form-urlencoded", "Authorization": HTTP.basic("web", secret)],
                                              body: HTTP.form([("grant_type", "refresh_token"), ("refresh_token", successor)]))
            #expect(refresh.status == 400)
        }
        let events = try await w.admin("GET", "/tenants/acme/events?type=refresh_token_reused").json["items"] as? [Any]
        #expect((events?.count ?? 0) >= 1)
        #expect(await a.stop() == 0)
        #expect(await b.stop() == 0)
    }

    /// Within the grace window and its retry count, racers on both nodes all get successors (audit finding 6
    /// bounds the count: the next test).
    @Test func twoNodesRacingWithinGraceAllSucceedAndTheFamilyStaysValid() async throws {
        let (a, b, w, secret) = try await twoNodes(policy: #"{"refresh_reuse_grace": 10, "refresh_reuse_grace_count": 100}"#)
        let login = try await w.oauth("acme", "token", client: ("web", secret),
                                      [("grant_type", "password"), ("username", "alice"), ("password", "correct horse battery")])
        let responses = try await race(try #require(login["refresh_token"]), on: [a, b], secret: secret)
        print("race, grace 10: \(responses.filter { $0.status == 200 }.count) × 200 of \(responses.count)")
        #expect(responses.allSatisfy { $0.status == 200 }, "\(responses.filter { $0.status != 200 }.map(\.text))")
        let successors = Set(responses.compactMap { $0["refresh_token"] })
        #expect(successors.count == 64)
        // The family is still valid: a successor refreshes on either node, and the session is live.
        let next = try await w.oauth("acme", "token", client: ("web", secret), [("grant_type", "refresh_token"), ("refresh_token", successors.first!)])
        #expect(next.status == 200)
        #expect(try await w.oauth("acme", "introspect", client: ("web", secret), [("token", next["access_token"]!)]).json["active"] as? Bool == true)
        #expect(await a.stop() == 0)
        #expect(await b.stop() == 0)
    }

    /// Audit finding 6 across nodes: of 64 racers within the window, one rotates and `refresh_reuse_grace_count`
    /// (3) get grace successors; the others are reuse, and the family is revoked on both nodes.
    @Test func twoNodesRacingWithinGraceGetNoMoreSuccessorsThanTheRetryCount() async throws {
        let (a, b, w, secret) = try await twoNodes(policy: #"{"refresh_reuse_grace": 10}"#)
        let login = try await w.oauth("acme", "token", client: ("web", secret),
                                      [("grant_type", "password"), ("username", "alice"), ("password", "correct horse battery")])
        let responses = try await race(try #require(login["refresh_token"]), on: [a, b], secret: secret)
        let winners = responses.filter { $0.status == 200 }
        print("race, grace 10, count 3: \(winners.count) × 200 of \(responses.count)")
        #expect(winners.count == 4, "one rotation and three grace retries")
        #expect(responses.allSatisfy { $0.status == 200 || ($0.status == 400 && $0["error"] == "invalid_grant") })
        for successor in winners.compactMap({ $0["refresh_token"] }) {
            let refresh = try await w.oauth("acme", "token", client: ("web", secret), [("grant_type", "refresh_token"), ("refresh_token", successor)])
            #expect(refresh.status == 400, "the reuse revoked the family")
        }
        #expect(await a.stop() == 0)
        #expect(await b.stop() == 0)
    }

    @Test func theWholeWalkthroughWorksOnPostgres() async throws {
        let server = try ServerProcess(environment: ["IDENTITY_STORE": try TestPostgres.freshDatabase()])
        try await server.waitUntilReady()
        let w = Walkthrough(server)
        let key = try await w.createTenant("acme", policy: #"{"refresh_reuse_grace": 1, "refresh_token_format": "jwt"}"#)
        let secret = try await w.createClient("acme", id: "web", key: key)
        let userID = try await w.createUser("acme", username: "alice", password: "correct horse battery", key: key)
        let login = try await w.oauth("acme", "token", client: ("web", secret),
                                      [("grant_type", "password"), ("username", "alice"), ("password", "correct horse battery"), ("scope", "openid api")])
        #expect(login.status == 200)
        let refreshed = try await w.oauth("acme", "token", client: ("web", secret), [("grant_type", "refresh_token"), ("refresh_token", login["refresh_token"]!)])
        #expect(refreshed.status == 200)
        try await Task.sleep(for: .milliseconds(1200))
        let reuse = try await w.oauth("acme", "token", client: ("web", secret), [("grant_type", "refresh_token"), ("refresh_token", login["refresh_token"]!)])
        #expect(reuse.status == 400)
        #expect(try await w.oauth("acme", "introspect", client: ("web", secret), [("token", refreshed["access_token"]!)]).json["active"] as? Bool == false)
        let sessions = try await w.admin("GET", "/tenants/acme/users/\(userID)/sessions", key: key).json["items"] as? [Any]
        #expect(sessions?.isEmpty == true)
        #expect(try await w.admin("POST", "/tenants/acme/keys/rotate", key: key, json: #"{"alg": "EdDSA"}"#).status == 200)
        let after = try await w.oauth("acme", "token", client: ("web", secret), [("grant_type", "client_credentials")])
        #expect(after.status == 200)
        #expect(try await w.oauth("acme", "introspect", client: ("web", secret), [("token", after["access_token"]!)]).json["active"] as? Bool == true)
        #expect(try await HTTP.send("GET", server.base + "/readyz").json["status"] as? String == "ready")
        #expect(await server.stop() == 0)
        for secret in w.secrets { #expect(!server.log.contains(secret)) }
    }

    @Test func theDatabaseGoingAwayUnderLoadGives503AndTheNodeRecoversByItself() async throws {
        let server = try ServerProcess(environment: ["IDENTITY_STORE": try TestPostgres.freshDatabase() + "?operation_timeout=2&connect_timeout=1"])
        try await server.waitUntilReady()
        let w = Walkthrough(server)
        let key = try await w.createTenant("acme")
        let secret = try await w.createClient("acme", id: "web", key: key)
        _ = try await w.createUser("acme", username: "alice", password: "correct horse battery", key: key)

        var logins: [String] = []
        for _ in 0..<4 {
            logins.append(try #require(try await w.oauth("acme", "token", client: ("web", secret),
                [("grant_type", "password"), ("username", "alice"), ("password", "correct horse battery")])["refresh_token"]))
        }
        // Four clients on threads of their own, each refreshing its session with the last token it was given.
        let load = RefreshLoad(base: server.base, secret: secret, chains: logins)
        load.start()
        defer { load.halt() }  // the load stops even if an expectation throws
        try await Task.sleep(for: .seconds(1))
        let okBefore = load.tally.withLock { $0.ok }
        try await TestPostgres.cluster("stop")
        load.phase.withLock { $0 = "down" }
        try await Task.sleep(for: .seconds(3))
        let down = load.tally.withLock { $0 }
        let ready = try await HTTP.send("GET", server.base + "/readyz")
        try await TestPostgres.cluster("start")
        load.phase.withLock { $0 = "recovering" }
        let recoveryStarted = Date()
        var recovered = false
        while Date().timeIntervalSince(recoveryStarted) < 20 {
            let okNow = load.tally.withLock { $0.ok }
            try await Task.sleep(for: .milliseconds(500))
            if load.tally.withLock({ $0.ok }) > okNow + 5 {
                recovered = true
                break
            }
        }
        let recoveryTime = Date().timeIntervalSince(recoveryStarted)
        let lastTokens = await load.finish()
        let final = load.tally.withLock { $0 }
        print("database down: \(okBefore) ok before, \(down.unavailable) × 503 while down (slowest \(String(format: "%.2f", down.slowest)) s), recovered in \(String(format: "%.1f", recoveryTime)) s, \(final.ok) ok in all")

        #expect(okBefore > 0)
        #expect(down.unavailable > 0)
        #expect(down.slowest < 3.5, "a request waited \(down.slowest) s for a dead database")
        #expect(final.retryAfterMissing == 0)
        // If the node is gone, say why (its log goes with its data directory).
        #expect(server.process.isRunning, "the node exited (status \(server.process.isRunning ? 0 : server.process.terminationStatus)): \(server.log.suffix(4000))")
        #expect(final.other.isEmpty, "\(final.other.prefix(5))")
        #expect(ready.status == 503)
        #expect(recovered)
        #expect(try await HTTP.send("GET", server.base + "/readyz").status == 200)
        // Every token a client was last given was persisted: each chain goes on.
        for token in lastTokens {
            let next = try await w.oauth("acme", "token", client: ("web", secret), [("grant_type", "refresh_token"), ("refresh_token", token)])
            #expect(next.status == 200, "\(next.text)")
        }
        let status = await server.stop()
        #expect(status == 0, "\(server.log.suffix(3000))")
    }
}
}

/// Refresh chains driven from plain threads, each presenting the last token it was given.
final class RefreshLoad: LoadThreads, @unchecked Sendable {
    struct Tally { var ok = 0, unavailable = 0, other: [String] = [], slowest = 0.0, retryAfterMissing = 0 }
    let tally = Mutex(Tally())
    private let tokens: Mutex<[String]>
    let base: String, secret: String

    init(base: String, secret: String, chains: [String]) {
        self.base = base
        self.secret = secret
        tokens = Mutex(chains)
        super.init(phase: "before")
    }

    func start() {
        start(tokens.withLock { $0.count }) { self.drive($0) }
    }

    private func drive(_ index: Int) {
        while !isDone {
            let token = tokens.withLock { $0[index] }
            let started = Date()
            let response: HTTP.Response
            do {
                response = try HTTP.sendBlocking("POST", base + "/t/acme/oauth/token",
                    headers: ["Content-Type": "application/x-www-form-urlencoded", "Authorization": HTTP.basic("web", secret)],
                    body: HTTP.form([("grant_type", "refresh_token"), ("refresh_token", token)]))
            } catch {
                let now = phase.withLock { $0 }
                tally.withLock { $0.other.append("\(now): no response: \(error)") }
                continue
            }
            let elapsed = Date().timeIntervalSince(started), now = phase.withLock { $0 }
            tally.withLock { t in
                switch response.status {
                case 200: t.ok += 1
                case 503:
                    t.unavailable += 1
                    t.slowest = max(t.slowest, elapsed)
                    if response.header("Retry-After") == nil { t.retryAfterMissing += 1 }
                default: t.other.append("\(now): \(response.status) \(response.text)")
                }
            }
            if response.status == 200, let next = response["refresh_token"] {
                tokens.withLock { $0[index] = next }
            } else {
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
    }

    /// Stops the threads and returns the last token of each chain.
    func finish() async -> [String] {
        await stop()
        return tokens.withLock { $0 }
    }
}
