import Foundation

/// What a store reports besides "not found" (which is `nil`).
public enum StoreError: Error, Sendable, Equatable {
    /// A unique key is already taken (tenant id, username, client id).
    case conflict(String)
    /// The backend cannot be reached or failed; nothing was written.
    case unavailable(String)
    /// The backend answered and refused the data itself (a value it cannot store): retrying the same write
    /// fails the same way. Nothing was written.
    case rejected(String)
    /// The stored schema is newer than this binary knows.
    case schemaTooNew(found: Int, known: Int)
}
