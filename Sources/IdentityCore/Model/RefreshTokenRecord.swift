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

    public init(tenantID: String, lookupKey: String, sessionID: String, clientID: String, state: State = .active,
                createdAt: Date, rotatedAt: Date? = nil, parentKey: String? = nil) {
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
