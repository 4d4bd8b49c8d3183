import Foundation

/// Authenticates end users, for the password grant and the login page alike: the lockout of failed
/// attempts, the password (against a decoy hash when the username is unknown, so that both take as long),
/// then the TOTP code when one is asked for. Every failure is a `login_failed` event and `invalid_grant`,
/// with the same answer for an unknown user and a wrong password.
public struct UserAuthenticator: Sendable {
    let store: any UserStore
    let hasher: PasswordHasher
    let box: SecretBox
    let throttle: LoginThrottle
    let audit: AuditLog
    let clock: any IdentityClock

    public init(store: any UserStore, hasher: PasswordHasher, box: SecretBox, throttle: LoginThrottle, audit: AuditLog, clock: any IdentityClock) {
        self.store = store
        self.hasher = hasher
        self.box = box
        self.throttle = throttle
        self.audit = audit
        self.clock = clock
    }

    /// Who is logging in, where.
    public struct Attempt: Sendable {
        public var tenant: TenantContext
        public var clientID: String?
        public var origin: RequestOrigin

        public init(tenant: TenantContext, clientID: String?, origin: RequestOrigin) {
            self.tenant = tenant
            self.clientID = clientID
            self.origin = origin
        }
    }

    /// The password grant's authentication: the password, and the TOTP code when `otp` is given (`mfa`).
    public func authenticate(username: String, password: String, otp: String?, _ attempt: Attempt) async throws -> AuthenticatedUser {
        let user = try await verifyPassword(username: username, password: password, attempt)
        guard let otp else {
            await throttle.recordSuccess(tenantID: attempt.tenant.tenant.id, username: username, policy: attempt.tenant.policy.rateLimit)
            return AuthenticatedUser(user: user, level: .pwd, authTime: clock.now())
        }
        try await verifyOTP(otp, of: user, attempt)
        await throttle.recordSuccess(tenantID: attempt.tenant.tenant.id, username: username, policy: attempt.tenant.policy.rateLimit)
        return AuthenticatedUser(user: user, level: .mfa, authTime: clock.now())
    }

    /// The user whose password `password` is, after the lockout check; `invalid_grant` for an unknown user
    /// and a wrong password alike.
    public func verifyPassword(username: String, password: String, _ attempt: Attempt) async throws -> User {
        let tenantID = attempt.tenant.tenant.id, limits = attempt.tenant.policy.rateLimit
        try await throttle.checkLockout(tenantID: tenantID, username: username, policy: limits)
        let user = username.utf8.count <= 200 ? try await store.user(tenantID: tenantID, username: username) : nil
        let matches = await hasher.verify(password, against: user?.passwordHash ?? decoyHash)
        guard let user, matches else {
            await throttle.recordFailure(tenantID: tenantID, username: username, policy: limits)
            throw failed(user == nil ? "unknown_user" : "wrong_password", user: user?.id, attempt)
        }
        return user
    }

    /// Checks a TOTP code of `user`, who has already given their password.
    public func verifyOTP(_ otp: String, of user: User, _ attempt: Attempt) async throws {
        guard let sealed = user.sealedTOTPSecret else { throw failed("otp_not_enrolled", user: user.id, attempt) }
        guard TOTP(secret: try box.open(sealed)).verify(otp, at: clock.now()) else {
            await throttle.recordFailure(tenantID: attempt.tenant.tenant.id, username: user.username, policy: attempt.tenant.policy.rateLimit)
            throw failed("wrong_otp", user: user.id, attempt)
        }
    }

    private func failed(_ reason: String, user: String?, _ attempt: Attempt) -> OAuthError {
        audit.record(.loginFailed, tenantID: attempt.tenant.tenant.id, at: clock.now(), origin: attempt.origin, user: user,
                     client: attempt.clientID, detail: reason)
        return OAuthError.invalidGrant(reason: reason)
    }

    /// A hash with the current parameters that never matches: checked when the username is unknown, so that
    /// the answer takes as long as for a wrong password.
    private var decoyHash: String {
        let p = hasher.parameters
        return "$scrypt$ln=\(p.logN),r=\(p.r),p=\(p.p)$" + String(repeating: "A", count: 22) + "$" + String(repeating: "A", count: 43)
    }
}
