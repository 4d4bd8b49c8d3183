import Foundation
@testable import IdentityCore
import IdentityTestSupport
import Logging
import MemoryStore
import Testing

/// The anomaly rules of `alerts`, each with its thresholds, windows and minimum samples, at given times; the
/// policy's validation; and the responses to reuse through the refresh grant.
@Suite struct AlertRuleTests {
    let audit = AuditLog(store: MemoryStore(), logger: LogSink(Logger(label: "test")))
    let monitor: AlertMonitor
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)  // a multiple of 60: bucket boundaries fall on whole minutes

    init() {
        monitor = AlertMonitor(counters: InProcessRateLimitCounters(), audit: audit, outbox: MemoryStore(), random: SystemRandomSource(),
                               log: LogSink(Logger(label: "test")))
    }

    func refresh(_ rules: AlertPolicy, at seconds: Double, user: String = "u1", client: String = "web", session: String = "s1",
                 succeeded: Bool = true, ip: String? = "203.0.113.5", agent: String? = "curl/8.5") -> AlertMonitor.Refresh {
        .init(tenantID: "acme", rules: rules, userID: user, clientID: client, sessionID: session, succeeded: succeeded, ip: ip, userAgent: agent,
              sessionIP: "203.0.113.5", sessionUserAgent: "curl/8.1", time: t0.addingTimeInterval(seconds))
    }

    func rules(_ alerts: [SecurityAlert]) -> [String] { alerts.map(\.rule.rawValue) }

    @Test func aRefreshSpikeFiresPastItsMaximumOncePerWindow() async {
        let spike = AlertPolicy(refreshSpike: .init(maxRefreshes: 3, window: 60))
        for second in [1.0, 2, 3] { #expect(await monitor.evaluate(refresh(spike, at: second)).isEmpty) }
        let fired = await monitor.evaluate(refresh(spike, at: 4))
        #expect(fired.map(\.detail) == ["refresh_spike count=4 max=3 window=60"])
        #expect(fired.first?.userID == "u1" && fired.first?.sessionID == "s1")
        #expect(await monitor.evaluate(refresh(spike, at: 5)).isEmpty, "once per window")
        // Another user has a count of its own.
        #expect(await monitor.evaluate(refresh(spike, at: 6, user: "u2")).isEmpty)
        // Failed refreshes are not a spike.
        #expect(await monitor.evaluate(refresh(spike, at: 7, user: "u3", succeeded: false)).isEmpty)
    }

    @Test func theSpikeWindowSlides() async {
        let spike = AlertPolicy(refreshSpike: .init(maxRefreshes: 3, window: 60))
        // Three refreshes late in one minute, one early in the next: a fixed window would see 3, then 1.
        for second in [50.0, 51, 52] { #expect(await monitor.evaluate(refresh(spike, at: second)).isEmpty) }
        #expect(rules(await monitor.evaluate(refresh(spike, at: 65))) == ["refresh_spike"])  // 1 + 3 × 55/60
        // Far enough apart, the same four refreshes raise nothing.
        for second in [0.0, 1, 2] { #expect(await monitor.evaluate(refresh(spike, at: 600 + second, user: "u9")).isEmpty) }
        #expect(await monitor.evaluate(refresh(spike, at: 719, user: "u9")).isEmpty)  // 1 + 3 × 1/60
    }

    @Test func aFailedRefreshRatioNeedsItsMinimumSample() async {
        let ratio = AlertPolicy(failedRefreshRatio: .init(ratio: 0.5, minSamples: 4, window: 300))
        #expect(await monitor.evaluate(refresh(ratio, at: 1)).isEmpty)
        #expect(await monitor.evaluate(refresh(ratio, at: 2)).isEmpty)
        #expect(await monitor.evaluate(refresh(ratio, at: 3, succeeded: false)).isEmpty, "3 samples are fewer than 4")
        let fired = await monitor.evaluate(refresh(ratio, at: 4, succeeded: false))
        #expect(fired.map(\.detail) == ["failed_refresh_ratio failed=2 total=4 percent=50 window=300"])
        #expect(await monitor.evaluate(refresh(ratio, at: 5, succeeded: false)).isEmpty, "once per window")
        // Below the ratio, nothing: another client with 1 failure in 5.
        for n in 0..<4 { #expect(await monitor.evaluate(refresh(ratio, at: 10 + Double(n), client: "other")).isEmpty) }
        #expect(await monitor.evaluate(refresh(ratio, at: 20, client: "other", succeeded: false)).isEmpty)
    }

    @Test func aNewAddressPrefixOrUserAgentFamilyFiresOncePerSessionAndValue() async {
        let watch = AlertPolicy(newIPPrefix: true, newUserAgent: true)
        #expect(await monitor.evaluate(refresh(watch, at: 1, ip: "203.0.113.77", agent: "curl/8.9")).isEmpty, "same /24, same family")
        let moved = await monitor.evaluate(refresh(watch, at: 2, ip: "198.51.100.1"))
        #expect(moved.map(\.detail) == ["new_ip_prefix prefix=198.51.100.0/24 session_prefix=203.0.113.0/24"])
        #expect(await monitor.evaluate(refresh(watch, at: 3, ip: "198.51.100.2")).isEmpty, "that prefix was reported")
        let browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
        #expect(rules(await monitor.evaluate(refresh(watch, at: 4, agent: browser))) == ["new_user_agent"])
        #expect(AlertMonitor.family(browser) == "Chrome" && AlertMonitor.family("Mozilla/5.0 (X11; rv:133.0) Gecko/20100101 Firefox/133.0") == "Firefox")
        #expect(AlertMonitor.family("okhttp/4.12.0") == "okhttp" && AlertMonitor.family("") == "unknown")
        // IPv6 compares /48s.
        let six = AlertMonitor.Refresh(tenantID: "acme", rules: watch, userID: "u1", clientID: "web", sessionID: "s6", succeeded: true,
                                       ip: "2001:db8:1:ffff::1", userAgent: nil, sessionIP: "2001:db8:1::5", sessionUserAgent: nil, time: t0)
        #expect(await monitor.evaluate(six).isEmpty)
        var elsewhere = six
        elsewhere.ip = "2001:db8:2::1"
        #expect(rules(await monitor.evaluate(elsewhere)) == ["new_ip_prefix"])
    }

    @Test func everyAlertIsASecurityAlertEvent() async throws {
        let runtime = try IdentityRuntime.forTests(store: MemoryStore(), clock: ManualClock())
        _ = try await Administration(runtime: runtime, operatorKey: "operator").createTenant(.init(id: "acme", name: "Acme"), by: .operator)
        _ = await runtime.alerts.evaluate(refresh(AlertPolicy(refreshSpike: .init(maxRefreshes: 1, window: 60)), at: 1))
        _ = await runtime.alerts.evaluate(refresh(AlertPolicy(refreshSpike: .init(maxRefreshes: 1, window: 60)), at: 2))
        await runtime.audit.flush()
        let events = try await runtime.audit.events(tenantID: "acme", kind: .securityAlert, after: 0, limit: 10)
        #expect(events.map(\.detail) == ["refresh_spike count=2 max=1 window=60"])
        #expect(events.first?.userID == "u1" && events.first?.clientID == "web")
    }

    @Test(arguments: [
        (#"{"alerts": {"refresh_spike": {"window": 60}}}"#, "alerts.refresh_spike.max_refreshes"),
        (#"{"alerts": {"refresh_spike": {"max_refreshes": 0, "window": 60}}}"#, "alerts.refresh_spike.max_refreshes"),
        (#"{"alerts": {"refresh_spike": {"max_refreshes": 5, "window": 0}}}"#, "alerts.refresh_spike.window"),
        (#"{"alerts": {"failed_refresh_ratio": {"ratio": 1.5, "min_samples": 10, "window": 60}}}"#, "alerts.failed_refresh_ratio.ratio"),
        (#"{"alerts": {"failed_refresh_ratio": {"ratio": 0.5, "window": 60}}}"#, "alerts.failed_refresh_ratio.min_samples"),
        (#"{"alerts": {"webhook_url": "ftp://example.com/x"}}"#, "alerts.webhook_url"),
        (#"{"alerts": {"webhook_url": "https://user:pw@example.com/x"}}"#, "alerts.webhook_url"),
        (#"{"alerts": {"new_ip_prefix": "yes"}}"#, "alerts.new_ip_prefix"),
        (#"{"alerts": {"sms": true}}"#, "alerts.sms"),
        (#"{"alerts": []}"#, "alerts"),
        (#"{"reuse_response": "everything"}"#, "reuse_response"),
    ])
    func aBadAlertPolicyNamesItsField(json: String, field: String) throws {
        do {
            _ = try TenantPolicy(validating: try JSONValue.parse(Array(json.utf8)))
            Issue.record("accepted \(json)")
        } catch AdminError.invalidField(let named, _) {
            #expect(named == field)
        }
    }

    @Test func aGoodAlertPolicyRoundTrips() throws {
        let json = #"{"reuse_response": "user", "alerts": {"refresh_spike": {"max_refreshes": 100, "window": 60}, "new_ip_prefix": true,"# +
            #""failed_refresh_ratio": {"ratio": 0.25, "min_samples": 20, "window": 300}, "webhook_url": "https://hooks.example.com/identityd"}}"#
        let policy = try TenantPolicy(validating: try JSONValue.parse(Array(json.utf8)))
        #expect(policy.reuseResponse == .user && policy.alerts.refreshSpike == .init(maxRefreshes: 100, window: 60) && policy.alerts.newIPPrefix)
        #expect(policy.alerts.failedRefreshRatio == .init(ratio: 0.25, minSamples: 20, window: 300))
        let decoded = try JSONDecoder().decode(TenantPolicy.self, from: try JSONEncoder().encode(policy))
        #expect(decoded == policy)
        #expect(TenantPolicy().alerts == AlertPolicy() && TenantPolicy().reuseResponse == .family && !TenantPolicy().alerts.watchesRefreshes)
    }
}

/// `reuse_response` through the refresh grant: `family` ends the reused session, `user` every session of the
/// user; either way a `reuse_detected` security alert.
@Suite struct ReuseResponseTests {
    let clock = ManualClock()
    let runtime: IdentityRuntime
    let admin: Administration
    var secret = ""

    init() async throws {
        runtime = try .forTests(store: MemoryStore(), clock: clock, tenantCacheTTL: 0)
        admin = Administration(runtime: runtime, operatorKey: "operator")
        _ = try await admin.createTenant(.init(id: "acme", name: "Acme"), by: .operator)
        secret = try await admin.createClient("acme", .init(clientID: "web", name: "Web", type: "confidential", grantTypes: ["password", "refresh_token"],
                                                            scopes: ["openid", "api"]), by: .operator).clientSecretForTests
        _ = try await admin.createUser("acme", .init(username: "alice", password: "correct horse"), by: .operator)
    }

    func token(_ parameters: [String: String]) async throws -> TokenResponse {
        try await runtime.tokenEndpoint.respond(tenantID: "acme", request: TokenRequest(
            parameters: parameters, client: ClientCredentials(clientID: "web", secret: secret, method: .basic), origin: .init()))
    }

    func login() async throws -> TokenResponse {
        try await token(["grant_type": "password", "username": "alice", "password": "correct horse", "scope": "openid api"])
    }

    func refresh(_ token: String?) async throws -> TokenResponse { try await self.token(["grant_type": "refresh_token", "refresh_token": token ?? ""]) }

    @Test(arguments: ["family", "user"])
    func reuseRevokesWhatThePolicySays(response: String) async throws {
        _ = try await admin.replacePolicy("acme", try JSONValue.parse(Array(#"{"refresh_reuse_grace": 0, "reuse_response": "\#(response)"}"#.utf8)),
                                          by: .operator)
        let stolen = try await login(), other = try await login()
        _ = try await refresh(stolen.refreshToken)
        await #expect(throws: OAuthError.invalidGrant(reason: "refresh_token_reused")) { try await refresh(stolen.refreshToken) }
        // The other session of the same user: alive with `family`, revoked with `user`.
        let survived = (try? await refresh(other.refreshToken)) != nil
        #expect(survived == (response == "family"))
        await runtime.audit.flush()
        let alerts = try await runtime.audit.events(tenantID: "acme", kind: .securityAlert, after: 0, limit: 10)
        #expect(alerts.map(\.detail) == ["reuse_detected response=\(response) sessions_revoked=\(response == "user" ? 2 : 1)"])
    }
}

/// The incident playbook's bulk revocations: by client, by address range, the whole tenant; bad bodies
/// name their field.
@Suite struct BulkRevocationTests {
    let runtime: IdentityRuntime
    let admin: Administration
    var secrets: [String: String] = [:]

    init() async throws {
        runtime = try .forTests(store: MemoryStore(), clock: ManualClock(), tenantCacheTTL: 0)
        admin = Administration(runtime: runtime, operatorKey: "operator")
        _ = try await admin.createTenant(.init(id: "acme", name: "Acme"), by: .operator)
        for client in ["web", "app"] {
            secrets[client] = try await admin.createClient("acme", .init(clientID: client, name: client, type: "confidential",
                                                                         grantTypes: ["password", "refresh_token"], scopes: ["openid"]),
                                                           by: .operator).clientSecretForTests
        }
        _ = try await admin.createUser("acme", .init(username: "alice", password: "correct horse"), by: .operator)
    }

    func login(_ client: String, from ip: String) async throws -> String {
        try await runtime.tokenEndpoint.respond(tenantID: "acme", request: TokenRequest(
            parameters: ["grant_type": "password", "username": "alice", "password": "correct horse"],
            client: ClientCredentials(clientID: client, secret: secrets[client], method: .basic), origin: RequestOrigin(ip: ip))).refreshToken ?? ""
    }

    func alive(_ token: String, _ client: String) async -> Bool {
        (try? await runtime.tokenEndpoint.respond(tenantID: "acme", request: TokenRequest(
            parameters: ["grant_type": "refresh_token", "refresh_token": token],
            client: ClientCredentials(clientID: client, secret: secrets[client], method: .basic), origin: .init()))) != nil
    }

    func revoke(_ json: String) async throws -> Int {
        try await admin.revokeSessionsInBulk("acme", try JSONValue.parse(Array(json.utf8)), by: .operator).revoked
    }

    @Test func byClientByAddressRangeAndTheWholeTenant() async throws {
        let web1 = try await login("web", from: "203.0.113.5"), web2 = try await login("web", from: "198.51.100.7")
        let app1 = try await login("app", from: "203.0.113.9"), app2 = try await login("app", from: "2001:db8:1::5")
        #expect(try await revoke(#"{"ip_prefix": "203.0.113.0/24"}"#) == 2)
        #expect(await alive(web1, "web") == false)
        #expect(await alive(app1, "app") == false)
        #expect(try await revoke(#"{"client_id": "web"}"#) == 1)
        #expect(await alive(web2, "web") == false)
        #expect(try await revoke(#"{"ip_prefix": "2001:db8::/32"}"#) == 1)
        #expect(await alive(app2, "app") == false)
        let last = try await login("app", from: "192.0.2.1")
        #expect(try await revoke(#"{"all": true}"#) == 1)
        #expect(await alive(last, "app") == false)
    }

    @Test(arguments: [
        (#"{}"#, "client_id"), (#"{"client_id": "web", "all": true}"#, "client_id"), (#"{"ip_prefix": "300.1.2.3/8"}"#, "ip_prefix"),
        (#"{"all": false}"#, "all"), (#"{"everyone": true}"#, "everyone"),
    ])
    func aBadBodyNamesItsField(json: String, field: String) async throws {
        do {
            _ = try await revoke(json)
            Issue.record("accepted \(json)")
        } catch AdminError.invalidField(let named, _) {
            #expect(named == field)
        }
    }
}
