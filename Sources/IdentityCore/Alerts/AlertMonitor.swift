import Foundation

/// Watches refreshes for the anomalies of each tenant's `alerts` policy (DESIGN.md "Metrics, alerts,
/// incident response"): a refresh spike per user, a failed-refresh ratio per client, a session refreshed
/// from a new address prefix or by a new user-agent family. The token path only hands over what it already
/// knows (`observe`, a bounded buffer: no store read, no wait); `run()` evaluates off the request path with
/// the rate-limit counters (Redis across nodes, this node's memory otherwise). Each rule fires at most once
/// per window and subject. Every alert is a `security_alert` audit event.
public final class AlertMonitor: Sendable {
    /// What a refresh tells the monitor.
    public struct Refresh: Sendable {
        public var tenantID: String
        public var rules: AlertPolicy
        public var userID: String?
        public var clientID: String
        public var sessionID: String?
        public var succeeded: Bool
        /// The request's address and user agent, and the session's from its start.
        public var ip: String?
        public var userAgent: String?
        public var sessionIP: String?
        public var sessionUserAgent: String?
        public var time: Date

        public init(tenantID: String, rules: AlertPolicy, userID: String?, clientID: String, sessionID: String?, succeeded: Bool, ip: String?,
                    userAgent: String?, sessionIP: String?, sessionUserAgent: String?, time: Date) {
            self.tenantID = tenantID
            self.rules = rules
            self.userID = userID
            self.clientID = clientID
            self.sessionID = sessionID
            self.succeeded = succeeded
            self.ip = ip
            self.userAgent = userAgent
            self.sessionIP = sessionIP
            self.sessionUserAgent = sessionUserAgent
            self.time = time
        }
    }

    let counters: any RateLimitCounters
    let audit: AuditLog
    private let stream: AsyncStream<Refresh>
    private let continuation: AsyncStream<Refresh>.Continuation

    public init(counters: any RateLimitCounters, audit: AuditLog, buffer: Int = 10_000) {
        self.counters = counters
        self.audit = audit
        (stream, continuation) = AsyncStream.makeStream(of: Refresh.self, bufferingPolicy: .bufferingNewest(buffer))
    }

    /// Hands a refresh over for evaluation; never waits (when the buffer is full, the oldest is dropped).
    public func observe(_ refresh: Refresh) {
        guard refresh.rules.watchesRefreshes else { return }
        continuation.yield(refresh)
    }

    /// Evaluates what `observe` hands over, until `finish()`.
    public func run() async {
        for await refresh in stream { _ = await evaluate(refresh) }
    }

    public func finish() { continuation.finish() }

    /// The alerts `refresh` raises (each also recorded); the counters' failures raise none.
    public func evaluate(_ refresh: Refresh) async -> [SecurityAlert] {
        var alerts: [SecurityAlert] = []
        let rules = refresh.rules, t = refresh.tenantID
        func alert(_ rule: SecurityAlert.Rule, _ figures: [(String, String)]) -> SecurityAlert {
            SecurityAlert(rule: rule, tenantID: t, userID: refresh.userID, clientID: refresh.clientID, sessionID: refresh.sessionID,
                          figures: figures, time: refresh.time)
        }
        if let spike = rules.refreshSpike, refresh.succeeded, let user = refresh.userID {
            let window = Duration.seconds(spike.window)
            if let count = try? await counters.slidingIncrement("al:\(t):spike:\(user)", window: window, now: refresh.time),
               count > Double(spike.maxRefreshes), await firstTime("al:\(t):fired:spike:\(user)", for: window) {
                alerts.append(alert(.refreshSpike, [("count", "\(Int(count.rounded(.up)))"), ("max", "\(spike.maxRefreshes)"), ("window", "\(spike.window)")]))
            }
        }
        if let ratio = rules.failedRefreshRatio {
            let window = Duration.seconds(ratio.window), client = refresh.clientID
            if let total = try? await counters.slidingIncrement("al:\(t):refreshes:\(client)", window: window, now: refresh.time) {
                let failed = refresh.succeeded ? nil : try? await counters.slidingIncrement("al:\(t):failed:\(client)", window: window, now: refresh.time)
                if let failed, total >= Double(ratio.minSamples), failed / total >= ratio.ratio,
                   await firstTime("al:\(t):fired:ratio:\(client)", for: window) {
                    let percent = Int((failed / total * 100).rounded())
                    alerts.append(alert(.failedRefreshRatio, [("failed", "\(Int(failed.rounded()))"), ("total", "\(Int(total.rounded()))"),
                                                              ("percent", "\(percent)"), ("window", "\(ratio.window)")]))
                }
            }
        }
        if rules.newIPPrefix, refresh.succeeded, let sid = refresh.sessionID, let now = Self.prefix(refresh.ip), let then = Self.prefix(refresh.sessionIP),
           now != then, await firstTime("al:\(t):fired:ip:\(sid):\(now)", for: .seconds(86_400)) {
            alerts.append(alert(.newIPPrefix, [("prefix", now), ("session_prefix", then)]))
        }
        if rules.newUserAgent, refresh.succeeded, let sid = refresh.sessionID, let before = refresh.sessionUserAgent, let agent = refresh.userAgent {
            let now = Self.family(agent), then = Self.family(before)
            if now != then, await firstTime("al:\(t):fired:ua:\(sid):\(now)", for: .seconds(86_400)) {
                alerts.append(alert(.newUserAgent, [("family", now), ("session_family", then)]))
            }
        }
        for alert in alerts { raise(alert) }
        return alerts
    }

    /// Records `alert` (a `security_alert` event).
    public func raise(_ alert: SecurityAlert) {
        audit.record(.securityAlert, tenantID: alert.tenantID, at: alert.time, user: alert.userID, client: alert.clientID, session: alert.sessionID,
                     detail: alert.detail)
    }

    /// Whether this is the first time `key` is asked within `window` (so that a rule fires once per window).
    private func firstTime(_ key: String, for window: Duration) async -> Bool {
        ((try? await counters.increment(key, window: window))?.count ?? 1) == 1
    }

    /// The /24 of an IPv4 address, the /48 of an IPv6 one.
    static func prefix(_ ip: String?) -> String? {
        guard let ip, let address = IPAddress(ip) else { return nil }
        return address.prefix(address.isIPv4 ? 24 : 48)
    }

    /// A user agent's family: the browser or library, without its version (`Chrome`, `Firefox`, `Safari`,
    /// `Edge`, `curl`, `okhttp`, `python-requests`, ...): a new version of the same browser is not an anomaly.
    static func family(_ userAgent: String) -> String {
        let known = ["Edg/": "Edge", "OPR/": "Opera", "Firefox/": "Firefox", "Chrome/": "Chrome", "CriOS/": "Chrome", "Safari/": "Safari"]
        for marker in ["Edg/", "OPR/", "Firefox/", "CriOS/", "Chrome/", "Safari/"] where userAgent.contains(marker) { return known[marker]! }
        let product = userAgent.prefix { $0 != "/" && $0 != " " }
        return product.isEmpty ? "unknown" : String(product.prefix(40))
    }
}
