import Foundation

/// OpenID Connect UserInfo claims.
public struct UserInfo: Sendable, Equatable, Encodable {
    public var sub: String
    public var preferredUsername: String
    public var email: String?

    public init(sub: String, preferredUsername: String, email: String?) {
        self.sub = sub
        self.preferredUsername = preferredUsername
        self.email = email
    }

    enum CodingKeys: String, CodingKey {
        case sub, email
        case preferredUsername = "preferred_username"
    }
}
