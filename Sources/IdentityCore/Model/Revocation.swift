import Foundation

/// A revoked session id or access-token id, kept until the last token it covers has expired.
public struct Revocation: Sendable, Equatable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable { case session = "sid", token = "jti" }

    public var tenantID: String
    public var kind: Kind
    public var value: String
    public var expiresAt: Date

    public init(tenantID: String, kind: Kind, value: String, expiresAt: Date) {
        self.tenantID = tenantID
        self.kind = kind
        self.value = value
        self.expiresAt = expiresAt
    }
}
