import Foundation

/// Slows down guessing (the policy's `rate_limit`; docs/decisions.md 41):
///
/// - passwords: per (username, address), every attempt counted before it is checked, so that concurrent
///   attempts cannot all pass a check made before any of them failed. Past `failed_logins_per_user`
///   attempts in the window that address is locked out for that username (`failed_login_backoff`,
///   doubling); a success forgets the address's attempts. Another address is not affected, so nobody can
///   lock a user out by failing on purpose from elsewhere;
/// - client secrets: per (client, address) likewise, but failures are counted after the check (a client
///   starting cold sends many requests at once, all with its right secret);
/// - passwords, per username from every address: past `failed_logins_per_username` failures the username is
///   locked out everywhere, but never longer than `username_lockout_max`, which bounds what a distributed
///   guesser (or someone locking a user out) can do;
/// - TOTP codes, per user: a counter of their own that only a right code resets (a password-only login
///   does not), so an attacker who knows the password has `failed_logins_per_user` guesses per window.
///
/// Names are hashed in keys (a key's length does not depend on what a client sends).
public struct LoginThrottle: Sendable {
    let counters: any RateLimitCounters
    /// Counts each refusal (`identityd_rate_limited_total`).
    let metrics: IdentityMetrics

    public init(counters: any RateLimitCounters, metrics: IdentityMetrics = IdentityMetrics()) {
        self.counters = counters
        self.metrics = metrics
    }

    /// What is being guessed.
    enum Secret {
        case password(username: String)
        case clientSecret(clientID: String)

        var name: String {
            switch self {
            case .password(let username): "p:" + TokenDigest.hex(username.lowercased()).prefix(32)
            case .clientSecret(let clientID): "c:" + TokenDigest.hex(clientID).prefix(32)
            }
        }
    }

    /// Before `secret` is checked: refuses when the address is locked out for that name or (a password) the
    /// username is locked out everywhere; a password attempt is counted here and refused past the limit.
    func admit(_ secret: Secret, tenantID: String, address: String?, policy: RateLimitPolicy) async throws {
        guard policy.failedLoginsPerUser > 0 else { return }
        if let remaining = try? await counters.lockRemaining(Self.key("ll", tenantID, secret.name, address)) {
            throw lockedOut(remaining, tenantID: tenantID)
        }
        guard case .password = secret else { return }
        if let remaining = try? await counters.lockRemaining(Self.key("lu", tenantID, secret.name, nil)) { throw lockedOut(remaining, tenantID: tenantID) }
        if let seconds = await count(secret, tenantID: tenantID, address: address, policy: policy) {
            throw lockedOut(.seconds(seconds), tenantID: tenantID)
        }
    }

    /// After a wrong password: counts it against the username from every address. After a wrong client
    /// secret: counts it against the client from this address.
    func failed(_ secret: Secret, tenantID: String, address: String?, policy: RateLimitPolicy) async {
        switch secret {
        case .password:
            guard policy.failedLoginsPerUsername > 0 else { return }
            let failures = try? await counters.increment(Self.key("lf", tenantID, secret.name, nil), window: .seconds(policy.failedLoginWindow))
            if let failures, let seconds = policy.usernameLockout(afterFailures: failures.count) {
                try? await counters.lock(Self.key("lu", tenantID, secret.name, nil), for: .seconds(seconds))
            }
        case .clientSecret:
            guard policy.failedLoginsPerUser > 0 else { return }
            _ = await count(secret, tenantID: tenantID, address: address, policy: policy, lockingAt: policy.failedLoginsPerUser)
        }
    }

    /// Counts an attempt of (name, address); once the count passes `lockingAt` (default: past the limit),
    /// locks the address out for the name and returns for how long.
    private func count(_ secret: Secret, tenantID: String, address: String?, policy: RateLimitPolicy, lockingAt: Int? = nil) async -> Int? {
        guard let attempts = try? await counters.increment(Self.key("la", tenantID, secret.name, address), window: .seconds(policy.failedLoginWindow)),
              attempts.count > (lockingAt.map { $0 - 1 } ?? policy.failedLoginsPerUser) else { return nil }
        let seconds = policy.lockout(afterFailures: max(attempts.count - 1, policy.failedLoginsPerUser)) ?? policy.failedLoginBackoff
        try? await counters.lock(Self.key("ll", tenantID, secret.name, address), for: .seconds(seconds))
        return seconds
    }

    /// After a right password or secret: the address's attempts are forgotten.
    func succeeded(_ secret: Secret, tenantID: String, address: String?, policy: RateLimitPolicy) async {
        guard policy.failedLoginsPerUser > 0 else { return }
        try? await counters.remove(Self.key("la", tenantID, secret.name, address))
    }

    /// Counts a TOTP attempt for the user before it is checked; refuses it past the limit (until the window
    /// ends, or a right code resets the count).
    func admitOTP(tenantID: String, userID: String, policy: RateLimitPolicy) async throws {
        guard policy.failedLoginsPerUser > 0,
              let attempts = try? await counters.increment(Self.key("lo", tenantID, userID, nil), window: .seconds(policy.failedLoginWindow)),
              attempts.count > policy.failedLoginsPerUser else { return }
        metrics.rateLimited("otp_locked_out", tenantID: tenantID)
        throw OAuthError.rateLimited(retryAfter: attempts.resetsIn.wholeSecondsRoundedUp, reason: "otp_locked_out")
    }

    /// After a right TOTP code: the user's TOTP attempts are forgotten.
    func otpSucceeded(tenantID: String, userID: String, policy: RateLimitPolicy) async {
        guard policy.failedLoginsPerUser > 0 else { return }
        try? await counters.remove(Self.key("lo", tenantID, userID, nil))
    }

    private static func key(_ kind: String, _ tenantID: String, _ name: String, _ address: String?) -> String {
        address.map { "\(kind):\(tenantID):\(name):\($0)" } ?? "\(kind):\(tenantID):\(name)"
    }

    private func lockedOut(_ remaining: Duration, tenantID: String) -> OAuthError {
        metrics.rateLimited("login_locked_out", tenantID: tenantID)
        return .rateLimited(retryAfter: remaining.wholeSecondsRoundedUp, reason: "login_locked_out")
    }
}
