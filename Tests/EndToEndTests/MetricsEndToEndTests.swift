import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `/metrics` on the management listener of the real binary: scraped before and after a rotation, a grace
/// retry, a reuse and a rate-limited request, the matching samples moved; the public port has no `/metrics`;
/// no tenant label unless asked for.
@Suite struct MetricsEndToEndTests {
    /// The samples of a Prometheus text exposition, by series (`name{labels}`).
    static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    func scrape(_ server: ServerProcess) async throws -> (text: String, samples: [String: Double]) {
        let answer = try await HTTP.send("GET", "http://127.0.0.1:\(server.metricsPort)/metrics")
        #expect(answer.status == 200)
        #expect(answer.headers["content-type"]?.hasPrefix("text/plain") == true, "\(answer.headers)")
        return (answer.text, Self.samples(answer.text))
    }

    /// The sum of every series of `name` whose labels include all of `labels`.
    func value(_ samples: [String: Double], _ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.filter { series, _ in
            guard series == name || series.hasPrefix(name + "{") else { return false }
            return labels.allSatisfy { series.contains("\($0.key)=\"\($0.value)\"") }
        }.values.reduce(0, +)
    }

    @Test func samplesMoveWithRotationsGraceRetriesReuseAndRateLimits() async throws {
        let server = try ServerProcess()
        try await server.waitUntilReady()
        let w = Walkthrough(server)
        let (_, web) = try await w.acmeWithAlice(policy: #"{"refresh_reuse_grace": 30}"#)
        let tinyKey = try await w.createTenant("tiny", policy: #"{"rate_limit": {"token_requests_per_client": 1}}"#)
        let tiny = ("app", try await w.createClient("tiny", id: "app", key: tinyKey))

        let before = try await scrape(server).samples
        let login = try await w.oauth("acme", "token", client: web, [("grant_type", "password"), ("username", "alice"),
                                                                     ("password", "correct horse battery"), ("scope", "openid api")])
        let t0 = try #require(login["refresh_token"])
        func refresh(_ token: String) async throws -> HTTP.Response {
            try await w.oauth("acme", "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", token)])
        }
        let t1 = try #require(try await refresh(t0)["refresh_token"])  // rotated
        #expect(try await refresh(t0).status == 200)  // the previous token within the window: a grace retry
        let t2 = try #require(try await refresh(t1)["refresh_token"])  // rotated
        _ = try #require(try await refresh(t2)["refresh_token"])  // rotated
        #expect(try await refresh(t0).status == 400)  // two rotations back: reuse, the family revoked
        #expect(try await w.oauth("tiny", "token", client: tiny, [("grant_type", "client_credentials")]).status == 200)
        #expect(try await w.oauth("tiny", "token", client: tiny, [("grant_type", "client_credentials")]).status == 429)
        try await Task.sleep(for: .milliseconds(300))

        let (text, after) = try await scrape(server)
        func moved(_ name: String, _ labels: [String: String] = [:]) -> Double { value(after, name, labels) - value(before, name, labels) }
        #expect(moved("identityd_tokens_issued_total", ["grant": "password"]) == 1)
        #expect(moved("identityd_tokens_issued_total", ["grant": "client_credentials"]) == 1)
        #expect(moved("identityd_refresh_total", ["outcome": "rotated"]) == 3)
        #expect(moved("identityd_refresh_total", ["outcome": "grace_retry"]) == 1)
        #expect(moved("identityd_refresh_total", ["outcome": "reuse_detected"]) == 1)
        #expect(moved("identityd_revocations_total", ["kind": "session"]) == 1)
        #expect(moved("identityd_rate_limited_total", ["limit": "client_rate_limit"]) == 1)
        let token = ["route": "/t/{tenant}/oauth/token", "method": "POST"]
        #expect(moved("identityd_http_requests_total", token.merging(["status": "200"]) { $1 }) == 6)
        #expect(moved("identityd_http_requests_total", token.merging(["status": "429"]) { $1 }) == 1)
        #expect(moved("identityd_http_requests_total", token.merging(["status": "400"]) { $1 }) == 1)
        #expect(moved("identityd_http_request_duration_seconds_count", token) == 8)
        #expect(text.contains("identityd_store_operation_duration_seconds_bucket{operation=\"apply_refresh\""), "\(text.prefix(2000))")
        // No tenant, user or client ids as labels.
        #expect(!text.contains("tenant=\"") && !text.contains("acme") && !text.contains("alice") && !text.contains("\"web\""))

        // The gauges arrive with the first sample (every 5 s). Without Redis there is no `identityd_redis_up`: a
        // 0 would read as "Redis down" and fire IdentitydRedisDown.
        var sampled = text
        for _ in 0..<80 where !sampled.contains("identityd_signing_key_age_seconds") {
            try await Task.sleep(for: .milliseconds(100))
            sampled = try await scrape(server).text
        }
        #expect(sampled.contains("identityd_audit_queue_depth") && sampled.contains("identityd_signing_key_age_seconds"))
        #expect(!sampled.contains("identityd_redis_up"))
        // The public port has no /metrics; the management listener has the probes too.
        #expect(try await HTTP.send("GET", server.base + "/metrics").status == 404)
        #expect(try await HTTP.send("GET", "http://127.0.0.1:\(server.metricsPort)/healthz").status == 200)
        #expect(try await HTTP.send("GET", "http://127.0.0.1:\(server.metricsPort)/readyz").status == 200)
        _ = await server.stop()
    }

    /// `reuse_response: user` ends every session of the user, and the reuse, like a refresh spike, is a
    /// `security_alert` event and a sample of `identityd_security_alerts_total`.
    @Test func reuseRevokesTheUsersSessionsAndAlertsAreEventsAndSamples() async throws {
        let server = try ServerProcess()
        try await server.waitUntilReady()
        let w = Walkthrough(server)
        let (key, web) = try await w.acmeWithAlice(policy: #"{"refresh_reuse_grace": 0, "reuse_response": "user", "#
            + #""alerts": {"refresh_spike": {"max_refreshes": 2, "window": 60}}}"#)
        func login() async throws -> String {
            try #require(try await w.oauth("acme", "token", client: web, [("grant_type", "password"), ("username", "alice"),
                                                                          ("password", "correct horse battery")])["refresh_token"])
        }
        func refresh(_ token: String) async throws -> HTTP.Response {
            try await w.oauth("acme", "token", client: web, [("grant_type", "refresh_token"), ("refresh_token", token)])
        }
        let stolen = try await login(), other = try await login()
        var current = try #require(try await refresh(stolen)["refresh_token"])
        current = try #require(try await refresh(current)["refresh_token"])
        current = try #require(try await refresh(current)["refresh_token"])  // the third refresh of alice's in a minute: a spike
        #expect(try await refresh(stolen).status == 400)  // reuse
        #expect(try await refresh(other).status == 400, "reuse_response=user ends the user's other sessions too")
        var details: [String] = []
        for _ in 0..<50 {
            let items = try await w.admin("GET", "/tenants/acme/events?type=security_alert", key: key).json["items"] as? [[String: Any]] ?? []
            details = items.compactMap { $0["detail"] as? String }
            if details.count >= 2 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(details.sorted() == ["refresh_spike count=3 max=2 window=60", "reuse_detected response=user sessions_revoked=2"], "\(details)")
        let samples = try await scrape(server).samples
        #expect(value(samples, "identityd_security_alerts_total", ["rule": "reuse_detected"]) == 1)
        #expect(value(samples, "identityd_security_alerts_total", ["rule": "refresh_spike"]) == 1)
        _ = await server.stop()
    }

    /// A management port another process holds stops the start, naming the cause: the node must not serve
    /// without the listener its operator configured (and must not hang on the way out: it once did, the alert
    /// monitor's loop spinning through cancellation).
    @Test func aTakenManagementPortStopsTheStart() async throws {
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, length) } }
        _ = listen(holder, 1)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(holder, $0, &length) } }
        let taken = Int(UInt16(bigEndian: address.sin_port))
        let server = try ServerProcess(environment: ["IDENTITY_METRICS_PORT": "\(taken)"])
        let status = await server.waitForExit()
        #expect(status != nil && status != 0, "the node kept running, or hung stopping: \(server.log.suffix(500))")
        #expect(server.log.contains("Address already in use"), "\(server.log.suffix(500))")
    }

    @Test func theTenantLabelOnlyWhenAskedForAndPortZeroTurnsTheListenerOff() async throws {
        let labelled = try ServerProcess(environment: ["IDENTITY_METRICS_TENANT_LABEL": "true"])
        try await labelled.waitUntilReady()
        let w = Walkthrough(labelled)
        let key = try await w.createTenant("acme")
        let web = ("web", try await w.createClient("acme", id: "web", key: key))
        #expect(try await w.oauth("acme", "token", client: web, [("grant_type", "client_credentials")]).status == 200)
        try await Task.sleep(for: .milliseconds(300))
        let samples = try await scrape(labelled).samples
        #expect(value(samples, "identityd_tokens_issued_total", ["grant": "client_credentials", "tenant": "acme"]) == 1)
        _ = await labelled.stop()

        let off = try ServerProcess(environment: ["IDENTITY_METRICS_PORT": "0"])
        try await off.waitUntilReady()
        await #expect(throws: (any Error).self) { try await HTTP.send("GET", "http://127.0.0.1:\(off.metricsPort)/metrics") }
        _ = await off.stop()

        let bad = try ServerProcess(environment: ["IDENTITY_METRICS_TENANT_LABEL": "yes"])
        let status = await bad.waitForExit()
        #expect(status != nil && status != 0 && bad.log.contains("IDENTITY_METRICS_TENANT_LABEL"), "\(bad.log.suffix(300))")
    }
}
