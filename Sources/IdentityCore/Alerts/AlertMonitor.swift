import Foundation
import Synchronization

/// Watches refreshes for the anomalies of each tenant's `alerts` policy (DESIGN.md "Metrics, alerts,
/// incident response"): a refresh spike per user, a failed-refresh ratio per client, a session refreshed
/// from a new address prefix or by a new user-agent family. The token path only hands over what it already
/// knows (`observe`, a bounded buffer: no store read, no wait); `run()` evaluates off the request path with
/// the rate-limit counters (Redis across nodes, this node's memory otherwise). Each rule fires at most once
/// per window and subject. Every alert is a `security_alert` audit event and, when the tenant has a
/// `webhook_url`, a delivery in the outbox (`WebhookDispatcher` sends it).
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

    /// What the monitor does beside the token path.
    enum Work: Sendable {
        case evaluate(Refresh)
        case enqueue(WebhookDelivery)
    }

    let counters: any RateLimitCounters
    let audit: AuditLog
    let outbox: any WebhookOutboxStore
    let random: any RandomSource
    let log: LogSink
    let capacity: Int
    /// What the token path handed over, taken in batches by `run()`: an append under a lock is all a
    /// refresh pays (a stream's hand-off per element cost a task switch each; measured in `make bench`).
    private let pending = Mutex<(work: [Work], finished: Bool)>(([], false))

    public init(counters: any RateLimitCounters, audit: AuditLog, outbox: any WebhookOutboxStore, random: any RandomSource, log: LogSink,
                buffer: Int = 10_000) {
        self.counters = counters
        self.audit = audit
        self.outbox = outbox
        self.random = random
        self.log = log
        capacity = buffer
    }

    /// Hands a refresh over for evaluation; never waits (when the buffer is full, it is dropped and counted:
    /// `identityd_alert_observations_dropped_total`).
    public func observe(_ refresh: Refresh) {
        guard refresh.rules.watchesRefreshes else { return }
        hand(.evaluate(refresh))
    }

    private func hand(_ work: Work) {
        let dropped = pending.withLock { pending -> Bool in
            guard pending.work.count < capacity else { return true }
            pending.work.append(work)
            return false
        }
        if dropped { audit.metrics.alertObservationDropped() }
    }

    /// Evaluates what `observe` hands over and queues the webhooks of alerts, every `interval`, until
    /// `finish()` or cancellation (what is pending then is still done, once).
    public func run(interval: Duration = .milliseconds(50)) async {
        var stopping = false
        while true {
            let (batch, finished) = pending.withLock { pending in
                defer { pending.work.removeAll(keepingCapacity: true) }
                return (pending.work, pending.finished)
            }
            for work in batch {
                switch work {
                case .evaluate(let refresh): _ = await evaluate(refresh)
                case .enqueue(let delivery): await enqueue(delivery)
                }
            }
            if finished || stopping { return }
            // Cancelled (the service group is stopping after a failure): one more round for what is pending.
            do { try await Task.sleep(for: interval) } catch { stopping = true }
        }
    }

    func enqueue(_ delivery: WebhookDelivery) async {
        do {
            try await outbox.enqueueWebhook(delivery)
        } catch {
            log.error("an alert could not be queued for its webhook", ["tenant": delivery.tenantID, "delivery": delivery.id, "error": "\(error)"])
        }
    }

    public func finish() { pending.withLock { $0.finished = true } }

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
        // The same address or agent as the session's (the common case) needs no parsing.
        if rules.newIPPrefix, refresh.succeeded, refresh.ip != refresh.sessionIP, let sid = refresh.sessionID, let now = Self.prefix(refresh.ip),
           let then = Self.prefix(refresh.sessionIP), now != then, await firstTime("al:\(t):fired:ip:\(sid):\(now)", for: .seconds(86_400)) {
            alerts.append(alert(.newIPPrefix, [("prefix", now), ("session_prefix", then)]))
        }
        if rules.newUserAgent, refresh.succeeded, let sid = refresh.sessionID, let before = refresh.sessionUserAgent, let agent = refresh.userAgent,
           agent != before {
            let now = Self.family(agent), then = Self.family(before)
            if now != then, await firstTime("al:\(t):fired:ua:\(sid):\(now)", for: .seconds(86_400)) {
                alerts.append(alert(.newUserAgent, [("family", now), ("session_family", then)]))
            }
        }
        for alert in alerts { await enqueue(record(alert, webhook: rules.webhookURL)) }
        return alerts
    }

    /// Records `alert` (a `security_alert` event) and, with a `webhook` URL, queues its delivery (beside the
    /// caller: the outbox write is the monitor's task).
    public func raise(_ alert: SecurityAlert, webhook: String?) {
        if let delivery = record(alert, webhook: webhook) { hand(.enqueue(delivery)) }
    }

    /// Records `alert`; the delivery to queue when there is a webhook.
    private func record(_ alert: SecurityAlert, webhook: String?) -> WebhookDelivery? {
        audit.record(.securityAlert, tenantID: alert.tenantID, at: alert.time, user: alert.userID, client: alert.clientID, session: alert.sessionID,
                     detail: alert.detail)
        guard webhook != nil else { return nil }
        let id = "whd_" + random.token(bytes: 16)
        return WebhookDelivery(tenantID: alert.tenantID, id: id, body: alert.webhookBody(id: id), createdAt: alert.time, nextAttemptAt: alert.time)
    }

    private func enqueue(_ delivery: WebhookDelivery?) async {
        if let delivery { await enqueue(delivery) }
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
