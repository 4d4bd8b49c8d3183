import Foundation

/// Failed password attempts per username, and the lockout they lead to (the policy's `rate_limit`).
public struct LoginThrottle: Sendable {
    let counters: any RateLimitCounters

    public init(counters: any RateLimitCounters) { self.counters = counters }

    /// Refuses a login for a username locked out by failed attempts.
    func checkLockout(tenantID: String, username: String, policy: RateLimitPolicy) async throws {
        guard policy.failedLoginsPerUser > 0 else { return }
        if let remaining = try? await counters.lockRemaining(Self.lockKey(tenantID, username)) {
            throw OAuthError.rateLimited(retryAfter: remaining.wholeSecondsRoundedUp, reason: "login_locked_out")
        }
    }

    /// Records a failed attempt; locks the username out once it reached the policy's limit.
    func recordFailure(tenantID: String, username: String, policy: RateLimitPolicy) async {
        guard policy.failedLoginsPerUser > 0 else { return }
        let failures = try? await counters.increment(Self.failureKey(tenantID, username), window: .seconds(policy.failedLoginWindow))
        if let failures, let seconds = policy.lockout(afterFailures: failures.count) {
            try? await counters.lock(Self.lockKey(tenantID, username), for: .seconds(seconds))
        }
    }

    /// Forgets failed attempts after a successful login.
    func recordSuccess(tenantID: String, username: String, policy: RateLimitPolicy) async {
        guard policy.failedLoginsPerUser > 0 else { return }
        try? await counters.remove(Self.failureKey(tenantID, username))
    }

    private static func failureKey(_ tenantID: String, _ username: String) -> String { "lf:\(tenantID):\(username.lowercased())" }
    private static func lockKey(_ tenantID: String, _ username: String) -> String { "ll:\(tenantID):\(username.lowercased())" }
}
