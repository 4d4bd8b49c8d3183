import Foundation

/// The write a refresh grant makes, decided by `RefreshRotation` and applied atomically by the store.
public struct RefreshWrite: Sendable, Equatable {
    public var tenantID: String
    /// The presented token.
    public var presentedKey: String
    /// The state the presented token must be in for the write to apply (the compare of compare-and-set).
    public var expectedState: RefreshTokenRecord.State
    /// The state it is left in (`rotated` on a rotation; unchanged otherwise).
    public var newState: RefreshTokenRecord.State
    /// Set as `rotatedAt` when the state changes to `rotated`.
    public var now: Date
    /// Inserted when the write applies; nil when rotation is off.
    public var successor: RefreshTokenRecord?
    /// For a grace retry: the presented token must also be unsuperseded and have had fewer than this many
    /// grace retries; the write counts one more. Nil for other writes.
    public var graceLimit: Int?
    /// For a rotation: the presented token's parent, marked superseded (the chain has moved past it).
    public var supersedes: String?
    public var sessionID: String
    /// The session's new `lastUsedAt`, `idleExpiresAt`, and (raised to at least this) `accessExpiresAt`.
    public var lastUsedAt: Date
    public var idleExpiresAt: Date
    public var accessExpiresAt: Date

    public init(tenantID: String, presentedKey: String, expectedState: RefreshTokenRecord.State, newState: RefreshTokenRecord.State,
                now: Date, successor: RefreshTokenRecord?, sessionID: String, lastUsedAt: Date, idleExpiresAt: Date, accessExpiresAt: Date,
                graceLimit: Int? = nil, supersedes: String? = nil) {
        self.graceLimit = graceLimit
        self.supersedes = supersedes
        self.tenantID = tenantID
        self.presentedKey = presentedKey
        self.expectedState = expectedState
        self.newState = newState
        self.now = now
        self.successor = successor
        self.sessionID = sessionID
        self.lastUsedAt = lastUsedAt
        self.idleExpiresAt = idleExpiresAt
        self.accessExpiresAt = accessExpiresAt
    }
}
