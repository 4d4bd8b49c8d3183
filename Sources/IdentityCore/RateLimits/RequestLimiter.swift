import Foundation

/// The tenant policy's request limits on the endpoints that authenticate a client: per client IP before
/// client authentication (so failed attempts count) and per client after it (so nobody can spend another
/// client's budget). Counted per node without Redis, across nodes with it.
public struct RequestLimiter: Sendable {
    let counters: any RateLimitCounters
    /// Counts each refusal (`identityd_rate_limited_total`).
    let metrics: IdentityMetrics

    public init(counters: any RateLimitCounters, metrics: IdentityMetrics = IdentityMetrics()) {
        self.counters = counters
        self.metrics = metrics
    }

    /// What a count is keyed by.
    public enum Subject: Sendable {
        case ip(String?)
        case client(String)
    }

    /// Counts one request of `subject`; `rate_limited` when it is past the tenant's limit. A limit that cannot
    /// be counted does not refuse requests (the fallback counters make this rare).
    public func count(_ subject: Subject, policy: RateLimitPolicy, tenantID: String) async throws {
        let limit: Int, key: String
        switch subject {
        case .ip(let ip):
            guard let ip else { return }
            (limit, key) = (policy.tokenRequestsPerIP, "rl:\(tenantID):ip:\(ip)")
        case .client(let id):
            (limit, key) = (policy.tokenRequestsPerClient, "rl:\(tenantID):client:\(id)")
        }
        guard limit > 0 else { return }
        let count = try? await counters.increment(key, window: .seconds(policy.window))
        if let count, count.count > limit {
            let kind = if case .ip = subject { "ip" } else { "client" }
            metrics.rateLimited("\(kind)_rate_limit", tenantID: tenantID)
            throw OAuthError.rateLimited(retryAfter: count.resetsIn.wholeSecondsRoundedUp, reason: "\(kind)_rate_limit")
        }
    }
}

extension Duration {
    /// Whole seconds, rounded up, at least 1: what a `Retry-After` header says.
    var wholeSecondsRoundedUp: Int {
        max(1, Int((Double(components.attoseconds) / 1e18 + Double(components.seconds)).rounded(.up)))
    }
}
