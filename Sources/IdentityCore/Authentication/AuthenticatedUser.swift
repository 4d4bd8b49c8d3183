import Foundation

/// A user who has just proved who they are, and how strongly: what a session is started from.
public struct AuthenticatedUser: Sendable, Equatable {
    public var user: User
    public var level: AuthenticationLevel
    /// When the authentication happened: the session's `auth_time`.
    public var authTime: Date
    /// The methods used (`amr`, RFC 8176).
    public var methods: [String]

    public init(user: User, level: AuthenticationLevel, authTime: Date, methods: [String]? = nil) {
        self.user = user
        self.level = level
        self.authTime = authTime
        self.methods = methods ?? level.methods
    }
}
