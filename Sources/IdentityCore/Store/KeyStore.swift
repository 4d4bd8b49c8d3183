import Foundation

/// Signing keys.
public protocol KeyStore: Sendable {
    /// Every key of the tenant, newest first.
    func signingKeys(tenantID: String) async throws -> [SigningKey]
    /// Inserts or replaces (by `kid`) every key given, in one transaction.
    func saveSigningKeys(_ keys: [SigningKey]) async throws
}
