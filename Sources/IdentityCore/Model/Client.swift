import Foundation

/// An OAuth client of a tenant.
public struct Client: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case confidential, `public` }

    public var tenantID: String
    public var id: String
    public var name: String
    public var kind: Kind
    /// PHC-style hash of the client secret; nil for public clients.
    public var secretHash: String?
    /// When the secret was last rotated: `client_credentials` tokens issued in an earlier second no longer
    /// introspect active.
    public var secretRotatedAt: Date?
    public var grantTypes: [GrantType]
    public var redirectURIs: [String]
    /// The scopes the client may ask for.
    public var scopes: [String]
    /// Where RP-initiated logout may send the browser back to (exact match).
    public var postLogoutRedirectURIs: [String]
    /// Whether users are asked to consent to the scopes (third-party apps); first-party clients skip it.
    public var requireConsent: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(tenantID: String, id: String, name: String, kind: Kind, secretHash: String?, grantTypes: [GrantType],
                redirectURIs: [String], scopes: [String], createdAt: Date, updatedAt: Date, secretRotatedAt: Date? = nil,
                postLogoutRedirectURIs: [String] = [], requireConsent: Bool = false) {
        self.secretRotatedAt = secretRotatedAt
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.requireConsent = requireConsent
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
