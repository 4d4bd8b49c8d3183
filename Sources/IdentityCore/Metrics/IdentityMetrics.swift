import Foundation
import Metrics
import Synchronization

/// The server's metrics, named as Prometheus expects (`identityd_` prefix, `_total` counters, `_seconds`
/// durations), through swift-metrics: the executable bootstraps swift-prometheus; unbootstrapped (tests, the
/// core used as a library) they are no-ops. Most come from the audit events as they are recorded, so that
/// nothing counts a token the audit log does not have. Labels never carry user or client ids; the tenant
/// only when `tenantLabel` is set (`IDENTITY_METRICS_TENANT_LABEL=true`), and a label's values are capped
/// (`maximumValuesPerLabel`, then `other`) so that no input can grow the series without bound.
public final class IdentityMetrics: Sendable {
    public static let maximumValuesPerLabel = 64

    public let tenantLabel: Bool
    private let counters = Mutex<[String: Counter]>([:])
    private let timers = Mutex<[String: Metrics.Timer]>([:])
    private let values = Mutex<[String: Set<String>]>([:])
    private let auditDepth = Gauge(label: "identityd_audit_queue_depth")
    /// Made at the first sample that has a value: a node without Redis exports no `identityd_redis_up` (a 0
    /// would read as "Redis down" and fire its alert).
    private let redisUp = Mutex<Gauge?>(nil)
    private let keyAge = Mutex<Gauge?>(nil)

    public init(tenantLabel: Bool = false) { self.tenantLabel = tenantLabel }

    // MARK: From audit events

    /// Counts what `event` says happened: tokens issued by grant, refresh outcomes and rejections by reason,
    /// login failures, DPoP proof failures, revocations, security alerts.
    public func observe(_ event: AuditEvent) {
        let tenant = event.tenantID
        switch event.kind {
        case .tokenIssued:
            count("identityd_tokens_issued_total", ["grant": word(event.detail)], tenant: tenant)
        case .tokenRefreshed:
            count("identityd_tokens_issued_total", ["grant": "refresh_token"], tenant: tenant)
            count("identityd_refresh_total", ["outcome": word(event.detail)], tenant: tenant)
        case .refreshFailed:
            count("identityd_refresh_total", ["outcome": "rejected"], tenant: tenant)
            count("identityd_refresh_rejections_total", ["reason": word(event.detail)], tenant: tenant)
        case .refreshTokenReused:
            count("identityd_refresh_total", ["outcome": "reuse_detected"], tenant: tenant)
        case .loginFailed:
            count("identityd_login_failures_total", ["reason": word(event.detail)], tenant: tenant)
        case .clientAuthFailed:
            count("identityd_client_auth_failures_total", [:], tenant: tenant)
        case .dpopProofRefused:
            count("identityd_dpop_proof_failures_total", ["reason": word(event.detail)], tenant: tenant)
        case .sessionRevoked:
            count("identityd_revocations_total", ["kind": "session"], tenant: tenant)
        case .tokenRevoked:
            count("identityd_revocations_total", ["kind": "token"], tenant: tenant)
        case .codeReused:
            count("identityd_code_reuse_total", [:], tenant: tenant)
        case .securityAlert:
            count("identityd_security_alerts_total", ["rule": word(event.detail)], tenant: tenant)
        default:
            break
        }
    }

    // MARK: Elsewhere

    /// A request refused by a rate limit or a lockout (`reason`: `ip_rate_limit`, `client_rate_limit`,
    /// `login_locked_out`, `otp_locked_out`).
    public func rateLimited(_ reason: String, tenantID: String) {
        count("identityd_rate_limited_total", ["limit": word(reason)], tenant: tenantID)
    }

    /// An observation the alert monitor had no room for (it evaluates more slowly than refreshes arrive).
    public func alertObservationDropped() {
        count("identityd_alert_observations_dropped_total", [:], tenant: nil)
    }

    /// A webhook delivery attempt's result (`delivered`, `failed`, `dropped`).
    public func webhookDelivery(_ result: String) {
        count("identityd_webhook_deliveries_total", ["result": result], tenant: nil)
    }

    /// Times one store call as `identityd_store_operation_duration_seconds{operation}`.
    public func storeOperation<T>(_ operation: StaticString, _ body: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        defer { timer("identityd_store_operation_duration_seconds", operation: "\(operation)").record(duration: ContinuousClock.now - start) }
        return try await body()
    }

    public func sample(auditQueueDepth: Int, redisUp: Bool?, oldestSigningKeyAge: TimeInterval?) {
        auditDepth.record(auditQueueDepth)
        if let redisUp { gauge(self.redisUp, "identityd_redis_up").record(redisUp ? 1 : 0) }
        if let oldestSigningKeyAge { gauge(keyAge, "identityd_signing_key_age_seconds").record(oldestSigningKeyAge) }
    }

    private func gauge(_ slot: borrowing Mutex<Gauge?>, _ label: String) -> Gauge {
        slot.withLock { gauge in
            if let gauge { return gauge }
            let made = Gauge(label: label)
            gauge = made
            return made
        }
    }

    // MARK: -

    private func count(_ name: String, _ labels: [String: String], tenant: String?) {
        var dimensions = labels.sorted { $0.key < $1.key }.map { label in (label.key, bounded(label.value, of: name + "." + label.key)) }
        if tenantLabel, let tenant { dimensions.append(("tenant", bounded(tenant, of: "tenant"))) }
        let key = name + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        let counter = counters.withLock { cache in
            if let counter = cache[key] { return counter }
            let counter = Counter(label: name, dimensions: dimensions)
            cache[key] = counter
            return counter
        }
        counter.increment()
    }

    private func timer(_ name: String, operation: String) -> Metrics.Timer {
        timers.withLock { cache in
            if let timer = cache[operation] { return timer }
            let timer = Metrics.Timer(label: name, dimensions: [("operation", operation)], preferredDisplayUnit: .seconds)
            cache[operation] = timer
            return timer
        }
    }

    /// `value` while the label has fewer than `maximumValuesPerLabel` values, else `other`.
    private func bounded(_ value: String, of label: String) -> String {
        values.withLock { seen in
            if seen[label, default: []].contains(value) { return value }
            guard seen[label, default: []].count < Self.maximumValuesPerLabel else { return "other" }
            seen[label, default: []].insert(value)
            return value
        }
    }

    /// The first word of a detail (`password acr=pwd` → `password`), as a label value: lower-case letters,
    /// digits and `_`, at most 40 characters.
    private func word(_ detail: String?) -> String {
        let first = (detail ?? "").prefix { $0 != " " && $0 != "=" && $0 != ":" }
        let cleaned = String(first.unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }.prefix(40))
        return cleaned.isEmpty ? "unknown" : cleaned
    }
}
