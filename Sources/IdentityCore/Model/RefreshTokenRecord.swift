import Foundation

/// One refresh token of a session's chain, as stored: never the token itself.
public struct RefreshTokenRecord: Sendable, Equatable {
    public enum State: String, Sendable, Codable { case active, rotated, revoked }

    public var tenantID: String
    /// How the store finds it: the SHA-256 (hex) of an opaque token, or the `jti` of a JWT one.
    public var lookupKey: String
    public var sessionID: String
    public var clientID: String
    public var state: State
    public var createdAt: Date
    public var rotatedAt: Date?
    /// The lookup key of the token this one succeeded, nil for the first of a family.
    public var parentKey: String?
    /// How many grace retries this rotated token has had (policy `refresh_reuse_grace_count` caps them).
    public var graceUses: Int
    /// Whether a successor of this token has itself been rotated: the chain moved on, so this token is no
    /// longer the immediately previous one and is not exchanged again, even within the grace window.
    public var superseded: Bool

    public init(tenantID: String, lookupKey: String, sessionID: String, clientID: String, state: State = .active,
                createdAt: Date, rotatedAt: Date? = nil, parentKey: String? = nil, graceUses: Int = 0, superseded: Bool = false) {
        self.graceUses = graceUses
        self.superseded = superseded
        self.tenantID = tenantID
        self.lookupKey = lookupKey
        self.sessionID = sessionID
        self.clientID = clientID
        self.state = state
        self.createdAt = createdAt
        self.rotatedAt = rotatedAt
        self.parentKey = parentKey
    }
}
