import Foundation

/// End users.
public protocol UserStore: Sendable {
    /// Throws `StoreError.conflict` when the username is taken in the tenant.
    func createUser(_ user: User) async throws
    /// The user with that id in that tenant, or nil.
    func user(tenantID: String, id: String) async throws -> User?
    /// The user whose username is exactly `username` (compared byte for byte) in that tenant, or nil.
    func user(tenantID: String, username: String) async throws -> User?
    /// The tenant's users ordered by username.
    func users(tenantID: String) async throws -> [User]
    /// Returns false when the user does not exist; throws `StoreError.conflict` on a taken username.
    func updateUser(_ user: User) async throws -> Bool
    /// Deletes the user; returns false when it did not exist. Revokes nothing by itself (the caller revokes
    /// the user's sessions first).
    func deleteUser(tenantID: String, id: String) async throws -> Bool
    /// Records that the TOTP code of time step `step` was accepted for the user, if no step at or after it
    /// was accepted before, atomically (two nodes accepting the same code: one gets true). False when the
    /// step, or a later one, was already used, or the user does not exist.
    func acceptTOTPStep(tenantID: String, userID: String, step: Int64) async throws -> Bool
    /// Replaces the user's password hash with `new` if it is still `old` (a rehash at login must not undo a
    /// password change made meanwhile). False otherwise.
    func replacePasswordHash(tenantID: String, userID: String, old: String, new: String) async throws -> Bool
}
