import Foundation

/// An end user of a tenant.
public struct User: Sendable, Equatable {
    public var tenantID: String
    public var id: String
    /// Unique within the tenant, compared exactly.
    public var username: String
    public var email: String?
    /// PHC-style scrypt hash.
    public var passwordHash: String
    /// The TOTP secret sealed under the master key, once enrolled.
    public var sealedTOTPSecret: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(tenantID: String, id: String, username: String, email: String?, passwordHash: String,
                sealedTOTPSecret: String?, createdAt: Date, updatedAt: Date) {
        self.tenantID = tenantID
        self.id = id
        self.username = username
        self.email = email
        self.passwordHash = passwordHash
        self.sealedTOTPSecret = sealedTOTPSecret
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
