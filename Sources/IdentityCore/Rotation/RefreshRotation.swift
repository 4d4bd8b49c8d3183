import Foundation

/// The refresh-token state machine of DESIGN.md "Rotation, reuse, sliding sessions", kept apart from the
/// I/O that feeds it: a `RefreshRotation.Input` (what the store said, who asks, the policy, the time) goes in,
/// a `RefreshRotation.Decision` comes out for the caller to execute. It reads no store and no clock.
/// `RefreshAttempt` runs it over a whole request: reads, the compare-and-set's outcome, retries.
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

        /// The word the audit log and the metrics use for it.
        public var outcome: String {
            switch self {
            case .rotate: "rotated"
            case .graceRetry: "grace_retry"
            case .reuseSameToken: "not_rotated"
            }
        }
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

    /// What an accepted refresh writes, in one compare-and-set: the presented token must be in `expected`
    /// and is left in `new`; the session's idle expiry slides to `idleExpiresAt`; a successor is issued
    /// unless the mode is `reuseSameToken`.
    public struct Issue: Sendable, Equatable {
        public var mode: Mode
        /// The presented token as read, and its session.
        public var token: RefreshTokenRecord
        public var session: Session
        public var expected: RefreshTokenRecord.State
        public var new: RefreshTokenRecord.State
        public var idleExpiresAt: Date
        /// Whether a successor is issued (every mode but `reuseSameToken`).
        public var issuesSuccessor: Bool { mode != .reuseSameToken }

        public init(mode: Mode, token: RefreshTokenRecord, session: Session, expected: RefreshTokenRecord.State, new: RefreshTokenRecord.State,
                    idleExpiresAt: Date) {
            self.mode = mode
            self.token = token
            self.session = session
            self.expected = expected
            self.new = new
            self.idleExpiresAt = idleExpiresAt
        }
    }

    /// What to do.
    public enum Decision: Sendable, Equatable {
        /// Issue tokens, after the store has applied `Issue`'s compare-and-set.
        case issue(Issue)
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
        func issue(_ mode: Mode) -> Decision {
            let (expected, new) = transition(for: mode)
            return .issue(Issue(mode: mode, token: token, session: session, expected: expected, new: new, idleExpiresAt: slid))
        }
        switch token.state {
        case .revoked:
            return .reject(.tokenRevoked)
        case .active:
            return issue(input.policy.refreshTokenRotation ? .rotate : .reuseSameToken)
        case .rotated:
            // A retry of a lost response, or a concurrent refresh: only of the immediately previous token (not
            // once the chain moved past it: its successor was rotated), within the window, and at most
            // `refresh_reuse_grace_count` times (Auth0's leeway, Hydra's grace reuse count). Beyond, reuse.
            let grace = TimeInterval(input.policy.refreshReuseGrace)
            if grace > 0, let rotatedAt = token.rotatedAt, now.timeIntervalSince(rotatedAt) <= grace, !token.superseded,
               token.graceUses < input.policy.refreshReuseGraceCount {
                return issue(.graceRetry)
            }
            return .revokeFamily
        }
    }

    /// The compare-and-set a store must apply for `mode`: which state the presented token must be in, and
    /// which it is left in.
    static func transition(for mode: Mode) -> (expected: RefreshTokenRecord.State, new: RefreshTokenRecord.State) {
        switch mode {
        case .rotate: (.active, .rotated)
        case .graceRetry: (.rotated, .rotated)
        case .reuseSameToken: (.active, .active)
        }
    }
}
