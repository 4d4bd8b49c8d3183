import Crypto
import Foundation
@testable import IdentityCore
import IdentityTestSupport
import Logging
import MemoryStore
import Synchronization
import Testing

/// Alert webhooks through the core: an alert becomes an outbox delivery; the dispatcher signs it with the
/// tenant's secret and POSTs it; failures are retried with back-off (and given up on), nothing is sent
/// without a secret or a URL.
@Suite struct WebhookDispatcherTests {
    /// Records what it is asked to send and answers `status` (or throws while `down`).
    final class Receiver: WebhookTransport {
        struct Down: Error {}
        struct Request: Sendable { var url: String; var headers: [String: String]; var body: [UInt8] }
        let requests = Mutex<[Request]>([])
        let answer = Mutex<Int?>(200)  // nil: down

        func post(_ url: String, headers: [(String, String)], body: [UInt8]) async throws -> Int {
            requests.withLock { $0.append(Request(url: url, headers: Dictionary(headers) { $1 }, body: body)) }
            guard let status = answer.withLock({ $0 }) else { throw Down() }
            return status
        }
        var count: Int { requests.withLock { $0.count } }
        var last: Request? { requests.withLock { $0.last } }
    }

    let clock = ManualClock()
    let store = MemoryStore()
    let runtime: IdentityRuntime
    let admin: Administration
    let receiver = Receiver()
    let dispatcher: WebhookDispatcher

    init() async throws {
        runtime = try .forTests(store: store, clock: clock, tenantCacheTTL: 0)
        admin = Administration(runtime: runtime, operatorKey: "operator")
        _ = try await admin.createTenant(.init(id: "acme", name: "Acme"), by: .operator)
        _ = try await admin.replacePolicy("acme", try JSONValue.parse(Array(#"{"alerts": {"webhook_url": "https://hooks.example/identityd"}}"#.utf8)),
                                          by: .operator)
        dispatcher = WebhookDispatcher(store: store, directory: runtime.directory, box: runtime.box, transport: receiver, clock: clock,
                                       log: LogSink(Logger(label: "test")), metrics: runtime.metrics)
    }

    func secret() async throws -> String { try await admin.rotateAlertSecret("acme", by: .operator).secret }

    /// A refresh spike's alert: an event and, with the tenant's webhook, a delivery in the outbox.
    func spike(at seconds: TimeInterval = 0) async throws {
        let rules = try #require(await runtime.directory.context(for: "acme")).policy.alerts
        var spiking = rules
        spiking.refreshSpike = .init(maxRefreshes: 1, window: 60)
        for _ in 0..<2 {
            _ = await runtime.alerts.evaluate(.init(tenantID: "acme", rules: spiking, userID: "usr_\(seconds)", clientID: "web", sessionID: "sid_1",
                                                    succeeded: true, ip: nil, userAgent: nil, sessionIP: nil, sessionUserAgent: nil,
                                                    time: clock.now()))
        }
    }

    @Test func anAlertIsPostedSignedWithTheTenantsSecret() async throws {
        let secret = try await secret()
        try await spike()
        #expect(await dispatcher.deliverDue() == 1)
        let request = try #require(receiver.last)
        #expect(request.url == "https://hooks.example/identityd")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(body["type"] as? String == "security_alert" && body["rule"] as? String == "refresh_spike" && body["tenant"] as? String == "acme")
        #expect(body["id"] as? String == request.headers["X-Identityd-Delivery"])
        // The receiver's check: HMAC-SHA256 under the secret of "<timestamp>.<body>".
        let timestamp = try #require(request.headers["X-Identityd-Timestamp"])
        let expected = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + request.body, using: SymmetricKey(data: Array(secret.utf8)))
        #expect(request.headers["X-Identityd-Signature"] == "sha256=" + Array(expected).hexString)
        #expect(request.headers["Content-Type"] == "application/json")
        // Delivered once: nothing left to send.
        clock.advance(3600)
        #expect(await dispatcher.deliverDue() == 0 && receiver.count == 1)
    }

    @Test func aFailedAttemptIsRetriedWithBackOffUntilItIsDelivered() async throws {
        _ = try await secret()
        receiver.answer.withLock { $0 = nil }
        try await spike()
        #expect(await dispatcher.deliverDue() == 0 && receiver.count == 1)
        clock.advance(1)
        #expect(await dispatcher.deliverDue() == 0 && receiver.count == 1, "not before its back-off")
        clock.advance(1.5)
        receiver.answer.withLock { $0 = 500 }
        #expect(await dispatcher.deliverDue() == 0 && receiver.count == 2, "a 500 is a failure too")
        receiver.answer.withLock { $0 = 302 }
        clock.advance(4.5)
        #expect(await dispatcher.deliverDue() == 0 && receiver.count == 3, "a redirect is not followed: a failure")
        receiver.answer.withLock { $0 = 204 }
        clock.advance(8.5)
        #expect(await dispatcher.deliverDue() == 1 && receiver.count == 4)
        #expect(WebhookDispatcher.backoff(afterAttempts: 1) == 2 && WebhookDispatcher.backoff(afterAttempts: 4) == 16
            && WebhookDispatcher.backoff(afterAttempts: 30) == 3600)
    }

    @Test func nothingIsSentWithoutASecretAndADeliveryIsGivenUpOnAtLast() async throws {
        try await spike()
        #expect(await dispatcher.deliverDue() == 0 && receiver.count == 0, "no secret yet: held, not sent unsigned")
        _ = try await secret()
        clock.advance(2.5)
        #expect(await dispatcher.deliverDue() == 1 && receiver.count == 1)
        // Down for good: after maximumAttempts the delivery goes.
        receiver.answer.withLock { $0 = nil }
        try await spike(at: 1)
        for _ in 0..<WebhookDispatcher.maximumAttempts {
            _ = await dispatcher.deliverDue()
            clock.advance(3601)
        }
        #expect(receiver.count == 1 + WebhookDispatcher.maximumAttempts)
        #expect(try await store.claimWebhooks(now: clock.now(), leaseUntil: clock.now() + 60, limit: 10).isEmpty)
    }

    @Test func withoutAWebhookURLAlertsAreOnlyEvents() async throws {
        _ = try await admin.replacePolicy("acme", try JSONValue.parse(Array("{}".utf8)), by: .operator)
        _ = try await secret()
        try await spike()
        #expect(await dispatcher.deliverDue() == 0 && receiver.count == 0)
        await runtime.audit.flush()
        #expect(try await runtime.audit.events(tenantID: "acme", kind: .securityAlert, after: 0, limit: 10).count == 1)
    }
}
