import Foundation

/// OAuth clients.
public protocol ClientStore: Sendable {
    /// Throws `StoreError.conflict` when the tenant already has a client with that id.
    func createClient(_ client: Client) async throws
    /// The client with that id in that tenant, or nil; never a client of another tenant.
    func client(tenantID: String, id: String) async throws -> Client?
    /// The tenant's clients ordered by id.
    func clients(tenantID: String) async throws -> [Client]
    /// Returns false when the client does not exist.
    func updateClient(_ client: Client) async throws -> Bool
    /// Deletes the client and revokes nothing by itself (the caller revokes its sessions first).
    func deleteClient(tenantID: String, id: String) async throws -> Bool
}
