import Foundation

/// Tenants, with their policy and the hash of their admin key.
public protocol TenantStore: Sendable {
    /// Inserts `tenant` with its admin key hash and first signing keys, all or nothing.
    /// Throws `StoreError.conflict` when the id is taken.
    func createTenant(_ tenant: Tenant, adminKeyHash: String, keys: [SigningKey]) async throws
    /// The tenant, or nil.
    func tenant(id: String) async throws -> Tenant?
    /// Every tenant, ordered by id.
    func tenants() async throws -> [Tenant]
    /// Replaces name, status, policy and `updatedAt`. Returns false when the tenant does not exist.
    func updateTenant(_ tenant: Tenant) async throws -> Bool
    /// Deletes the tenant and everything stored under it. Returns false when it did not exist.
    func deleteTenant(id: String) async throws -> Bool
    /// The id of the tenant whose admin key hashes to `hash`, or nil.
    func tenantID(adminKeyHash hash: String) async throws -> String?
    /// Replaces the tenant's admin key hash (the old key stops working at once). False when the tenant
    /// does not exist.
    func replaceAdminKeyHash(tenantID: String, hash: String) async throws -> Bool
}
