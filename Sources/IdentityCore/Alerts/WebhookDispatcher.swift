import Crypto
import Foundation

/// What sends a webhook: the executable's HTTP client (no redirects followed, a short timeout, never to
/// identityd's own listeners); tests pass their own.
public protocol WebhookTransport: Sendable {
    /// POSTs `body` to `url` with `headers`; returns the response's status, or throws when there is none.
    func post(_ url: String, headers: [(String, String)], body: [UInt8]) async throws -> Int
}

/// How a receiver checks that an alert comes from identityd (docs/operations.md has the code): the
/// `X-Identityd-Signature` header is `sha256=` and the hex HMAC-SHA256, under the tenant's alert secret, of
/// the `X-Identityd-Timestamp` value, a dot and the body.
public enum WebhookSignature {
    public static func sign(body: [UInt8], timestamp: Int64, secret: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: SymmetricKey(data: secret))
        return "sha256=" + Array(mac).hexString
    }
}

/// Delivers the outbox: claims what is due (leased for `lease`, so that no other node sends it meanwhile),
/// signs each delivery with its tenant's alert secret and POSTs it to the tenant's current `webhook_url`. A
/// 2xx finishes it; anything else is retried after 2, 4, 8 … seconds (at most an hour apart), across
/// restarts and nodes, up to `maximumAttempts`, then given up on (logged). Runs beside the token path,
/// never in it: an unreachable webhook slows nothing but its own deliveries.
public struct WebhookDispatcher: Sendable {
    public static let maximumAttempts = 15
    static let lease: TimeInterval = 60

    let store: any WebhookOutboxStore & SettingsStore
    let directory: TenantDirectory
    let box: SecretBox
    let transport: any WebhookTransport
    let clock: any IdentityClock
    let log: LogSink
    let metrics: IdentityMetrics

    public init(store: any WebhookOutboxStore & SettingsStore, directory: TenantDirectory, box: SecretBox, transport: any WebhookTransport,
                clock: any IdentityClock, log: LogSink, metrics: IdentityMetrics) {
        self.store = store
        self.directory = directory
        self.box = box
        self.transport = transport
        self.clock = clock
        self.log = log
        self.metrics = metrics
    }

    /// The wait before the attempt after `attempts` failed ones.
    public static func backoff(afterAttempts attempts: Int) -> TimeInterval { min(3600, 2 * pow(2, Double(max(0, attempts - 1)))) }

    /// Sends what is due; returns how many were delivered.
    @discardableResult
    public func deliverDue(limit: Int = 20) async -> Int {
        let now = clock.now()
        guard let due = try? await store.claimWebhooks(now: now, leaseUntil: now.addingTimeInterval(Self.lease), limit: limit) else { return 0 }
        var delivered = 0
        await withTaskGroup(of: Bool.self) { group in
            for delivery in due { group.addTask { await deliver(delivery) } }
            for await ok in group where ok { delivered += 1 }
        }
        return delivered
    }

    func deliver(_ delivery: WebhookDelivery) async -> Bool {
        let tenantID = delivery.tenantID
        guard let context = try? await directory.context(for: tenantID) else { return await retry(delivery, "tenant unavailable") }
        guard let url = context.policy.alerts.webhookURL else {
            // The tenant took its webhook away: nothing to deliver to.
            try? await store.finishWebhook(tenantID: tenantID, id: delivery.id)
            metrics.webhookDelivery("dropped")
            return false
        }
        guard let sealed = try? await store.setting(Self.secretSetting(tenantID)),
              let secret = try? box.open(sealed, context: SealContext.alertSecret(tenantID: tenantID)) else {
            return await retry(delivery, "no alert secret: POST /admin/v1/tenants/\(tenantID)/alerts/secret")
        }
        let timestamp = Int64(clock.now().timeIntervalSince1970), body = Array(delivery.body.utf8)
        let headers = [("Content-Type", "application/json"), ("User-Agent", "identityd-webhook"), ("X-Identityd-Timestamp", "\(timestamp)"),
                       ("X-Identityd-Signature", WebhookSignature.sign(body: body, timestamp: timestamp, secret: secret)),
                       ("X-Identityd-Delivery", delivery.id)]
        do {
            let status = try await transport.post(url, headers: headers, body: body)
            guard (200..<300).contains(status) else { return await retry(delivery, "answered \(status)") }
            try? await store.finishWebhook(tenantID: tenantID, id: delivery.id)
            metrics.webhookDelivery("delivered")
            return true
        } catch {
            return await retry(delivery, "\(error)")
        }
    }

    private func retry(_ delivery: WebhookDelivery, _ reason: String) async -> Bool {
        let attempts = delivery.attempts + 1
        metrics.webhookDelivery("failed")
        if attempts >= Self.maximumAttempts {
            log.error("alert webhook given up on", ["tenant": delivery.tenantID, "delivery": delivery.id, "attempts": "\(attempts)", "reason": reason])
            try? await store.finishWebhook(tenantID: delivery.tenantID, id: delivery.id)
            metrics.webhookDelivery("dropped")
            return false
        }
        log.warning("alert webhook failed; will retry", ["tenant": delivery.tenantID, "delivery": delivery.id, "attempts": "\(attempts)", "reason": reason])
        try? await store.retryWebhook(tenantID: delivery.tenantID, id: delivery.id, attempts: attempts,
                                      nextAttemptAt: clock.now().addingTimeInterval(Self.backoff(afterAttempts: attempts)))
        return false
    }

    /// Where a tenant's sealed alert secret is kept.
    public static func secretSetting(_ tenantID: String) -> String { "alert-secret:\(tenantID)" }
}
