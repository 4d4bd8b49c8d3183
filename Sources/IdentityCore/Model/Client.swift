import Foundation

/// An OAuth client of a tenant.
public struct Client: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case confidential, `public` }

    public var tenantID: String
    public var id: String
    public var name: String
    public var kind: Kind
    /// PHC-style scrypt hash of the client secret; nil for public clients.
    public var secretHash: String?
    public var grantTypes: [GrantType]
    public var redirectURIs: [String]
    /// The scopes the client may ask for.
    public var scopes: [String]
    public var createdAt: Date
    public var updatedAt: Date

    public init(tenantID: String, id: String, name: String, kind: Kind, secretHash: String?, grantTypes: [GrantType],
                redirectURIs: [String], scopes: [String], createdAt: Date, updatedAt: Date) {
        self.tenantID = tenantID
        self.id = id
        self.name = name
        self.kind = kind
        self.secretHash = secretHash
        self.grantTypes = grantTypes
        self.redirectURIs = redirectURIs
        self.scopes = scopes
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether a client id is acceptable: 1–100 visible ASCII characters other than `:` (it appears in Basic auth).
    public static func isValidID(_ id: String) -> Bool {
        (1...100).contains(id.utf8.count) && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x3A }
    }
}
