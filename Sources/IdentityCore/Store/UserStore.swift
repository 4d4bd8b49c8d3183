import Foundation

/// End users.
public protocol UserStore: Sendable {
    /// Throws `StoreError.conflict` when the username is taken in the tenant.
    func createUser(_ user: User) async throws
    func user(tenantID: String, id: String) async throws -> User?
    func user(tenantID: String, username: String) async throws -> User?
    /// The tenant's users ordered by username.
    func users(tenantID: String) async throws -> [User]
    /// Returns false when the user does not exist; throws `StoreError.conflict` on a taken username.
    func updateUser(_ user: User) async throws -> Bool
    func deleteUser(tenantID: String, id: String) async throws -> Bool
}
