import Foundation

/// Authenticates end users, for the password grant and the login page alike: the throttle (every attempt
/// counted before it is checked), the password (against a decoy hash when the username is unknown, so that
/// both take as long), then the TOTP code when one is asked for — each code good once. Every failure is a
/// `login_failed` event and `invalid_grant`, with the same answer for an unknown user and a wrong password.
/// A password hashed with an older scheme or parameters is hashed again once it has matched.
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

    /// The longest username a login looks for (usernames are at most 200 bytes when created).
    public static let maxUsername = 200

    /// The password grant's authentication: the password, and the TOTP code when `otp` is given (`mfa`).
    public func authenticate(username: String, password: String, otp: String?, _ attempt: Attempt) async throws -> AuthenticatedUser {
        let user = try await verifyPassword(username: username, password: password, attempt)
        guard let otp else { return AuthenticatedUser(user: user, level: .pwd, authTime: clock.now()) }
        try await verifyOTP(otp, of: user, attempt)
        return AuthenticatedUser(user: user, level: .mfa, authTime: clock.now())
    }

    /// The user whose password `password` is; `invalid_grant` for an unknown user and a wrong password
    /// alike, `rate_limited` while the throttle refuses.
    public func verifyPassword(username: String, password: String, _ attempt: Attempt) async throws -> User {
        let tenantID = attempt.tenant.tenant.id, limits = attempt.tenant.policy.rateLimit, address = attempt.origin.limitKey
        guard username.utf8.count <= Self.maxUsername else { throw OAuthError.invalidRequest(description: "username is too long") }
        let secret = LoginThrottle.Secret.password(username: username)
        try await throttle.admit(secret, tenantID: tenantID, address: address, policy: limits)
        let user = try await store.user(tenantID: tenantID, username: username)
        let matches = try await hasher.verify(password, against: user?.passwordHash ?? hasher.decoyHash, tenant: tenantID)
        guard let user, matches else {
            await throttle.failed(secret, tenantID: tenantID, address: address, policy: limits)
            throw failed(user == nil ? "unknown_user" : "wrong_password", user: user?.id, attempt)
        }
        await throttle.succeeded(secret, tenantID: tenantID, address: address, policy: limits)
        if hasher.needsRehash(user.passwordHash), let rehashed = try? await hasher.hash(password, tenant: tenantID) {
            _ = try? await store.replacePasswordHash(tenantID: tenantID, userID: user.id, old: user.passwordHash, new: rehashed)
        }
        return user
    }

    /// Checks a TOTP code of `user`, who has already given their password. The attempt is counted first; a
    /// code whose time step was accepted before (or a later one) is refused.
    public func verifyOTP(_ otp: String, of user: User, _ attempt: Attempt) async throws {
        let tenantID = attempt.tenant.tenant.id, limits = attempt.tenant.policy.rateLimit
        guard let sealed = user.sealedTOTPSecret else { throw failed("otp_not_enrolled", user: user.id, attempt) }
        try await throttle.admitOTP(tenantID: tenantID, userID: user.id, policy: limits)
        let seed = try box.open(sealed, context: SealContext.totp(tenantID: tenantID, userID: user.id))
        guard let step = TOTP(secret: seed).matchingStep(otp, at: clock.now()) else {
            throw failed("wrong_otp", user: user.id, attempt)
        }
        guard try await store.acceptTOTPStep(tenantID: tenantID, userID: user.id, step: step) else {
            throw failed("otp_replayed", user: user.id, attempt)
        }
        await throttle.otpSucceeded(tenantID: tenantID, userID: user.id, policy: limits)
    }

    private func failed(_ reason: String, user: String?, _ attempt: Attempt) -> OAuthError {
        audit.record(.loginFailed, tenantID: attempt.tenant.tenant.id, at: clock.now(), origin: attempt.origin, user: user,
                     client: attempt.clientID, detail: reason)
        return OAuthError.invalidGrant(reason: reason)
    }
}
