import Foundation

/// A change other nodes must apply.
public enum Invalidation: Sendable, Equatable, Codable {
    /// Tenant record, policy or keys changed: drop cached tenant data (nil: every tenant).
    case tenant(String?)
    /// Sessions or tokens were revoked (and written to the store and the shared cache): remember them.
    case revocations([Revocation])
}
