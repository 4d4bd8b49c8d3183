import Foundation

/// The refresh-token state machine of DESIGN.md "Rotation, reuse, sliding sessions", kept apart from the
/// I/O that feeds it: a `RefreshRotation.Input` (what the store said, who asks, the policy, the time) goes in,
/// a `RefreshRotation.Decision` comes out for the caller to execute. It reads no store and no clock.
public enum RefreshRotation {
    /// Everything the decision depends on.
    public struct Input: Sendable {
        /// The tenant whose endpoint the request came in on.
        public var tenantID: String
        public var token: RefreshTokenRecord
        public var session: Session
        /// The authenticated client presenting the token.
        public var clientID: String
        public var policy: TenantPolicy
        public var now: Date

        public init(tenantID: String, token: RefreshTokenRecord, session: Session, clientID: String, policy: TenantPolicy, now: Date) {
            self.tenantID = tenantID
            self.token = token
            self.session = session
            self.clientID = clientID
            self.policy = policy
            self.now = now
        }
    }

    /// How a successful refresh treats the presented token.
    public enum Mode: Sendable, Equatable {
        /// Step 2: the active token becomes `rotated` (compare-and-set) and a successor is issued.
        case rotate
        /// Step 3: a rotated token presented again within the grace window: a new successor, the family stays valid.
        case graceRetry
        /// Rotation is off: the token stays active and is handed back; only the session slides.
        case reuseSameToken
    }

    /// Why a refresh is refused without touching the family (step 5).
    public enum Rejection: String, Sendable, Equatable {
        case wrongClient = "wrong_client"
        case tenantMismatch = "wrong_tenant"
        case sessionRevoked = "session_revoked"
        case tokenRevoked = "token_revoked"
        case idleExpired = "idle_expired"
        case absoluteExpired = "absolute_expired"
    }

    /// What to do.
    public enum Decision: Sendable, Equatable {
        /// Issue tokens: apply `write`-shaped changes for `mode`, sliding the idle expiry to `idleExpiresAt`.
        case issue(mode: Mode, idleExpiresAt: Date)
        /// Step 4: reuse past the grace window: revoke the whole session, record `refresh_token_reused`, refuse.
        case revokeFamily
        /// Step 5: refuse with `invalid_grant`; nothing changes.
        case reject(Rejection)
    }

    /// Decides what a refresh with `input` must do.
    public static func decide(_ input: Input) -> Decision {
        let token = input.token, session = input.session, now = input.now
        guard token.tenantID == input.tenantID, session.tenantID == input.tenantID, token.sessionID == session.id else {
            return .reject(.tenantMismatch)
        }
        guard token.clientID == input.clientID, session.clientID == input.clientID else { return .reject(.wrongClient) }
        guard session.status == .active else { return .reject(.sessionRevoked) }
        guard now < session.absoluteExpiresAt else { return .reject(.absoluteExpired) }
        guard now < session.idleExpiresAt else { return .reject(.idleExpired) }

        let slid = min(now.addingTimeInterval(TimeInterval(input.policy.sessionIdleTTL)), session.absoluteExpiresAt)
        switch token.state {
        case .revoked:
            return .reject(.tokenRevoked)
        case .active:
            return .issue(mode: input.policy.refreshTokenRotation ? .rotate : .reuseSameToken, idleExpiresAt: slid)
        case .rotated:
            let grace = TimeInterval(input.policy.refreshReuseGrace)
            if grace > 0, let rotatedAt = token.rotatedAt, now.timeIntervalSince(rotatedAt) <= grace {
                return .issue(mode: .graceRetry, idleExpiresAt: slid)
            }
            return .revokeFamily
        }
    }

    /// The compare-and-set a store must apply for `mode`: which state the presented token must be in, and
    /// which it is left in.
    public static func transition(for mode: Mode) -> (expected: RefreshTokenRecord.State, new: RefreshTokenRecord.State) {
        switch mode {
        case .rotate: (.active, .rotated)
        case .graceRetry: (.rotated, .rotated)
        case .reuseSameToken: (.active, .active)
        }
    }
}
