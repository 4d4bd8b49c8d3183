import Foundation

/// A user's consent to a client having scopes: remembered until revoked, so the consent page is shown once
/// per new scope.
public struct Consent: Sendable, Equatable {
    public var tenantID: String
    public var userID: String
    public var clientID: String
    public var scopes: [String]
    public var grantedAt: Date

    public init(tenantID: String, userID: String, clientID: String, scopes: [String], grantedAt: Date) {
        self.tenantID = tenantID
        self.userID = userID
        self.clientID = clientID
        self.scopes = scopes
        self.grantedAt = grantedAt
    }
}
