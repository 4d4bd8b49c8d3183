import Foundation

/// What became of an attempt to exchange a code.
public enum CodeConsumption: Sendable, Equatable {
    /// This call consumed the code (it is the code's only successful consumption).
    case consumed(AuthorizationCode)
    /// The code was consumed before (its `sessionID`, if the first exchange got that far, is to be revoked).
    case alreadyConsumed(AuthorizationCode)
    /// No such code in the tenant, or it expired.
    case unknown
}

/// Authorization codes (fosite's `AuthorizeCodeStorage`, node-oidc-provider's `consume`).
public protocol AuthorizationCodeStore: Sendable {
    /// Stores a new code. Throws `StoreError.conflict` when its hash exists.
    func saveCode(_ code: AuthorizationCode) async throws
    /// Consumes the code with that hash, atomically: of any number of concurrent calls for one code, exactly
    /// one gets `.consumed` (a compare-and-set on `consumedAt`); the others, and every later call, get
    /// `.alreadyConsumed`. A code past its `expiresAt` at `now` is `.unknown` (unless already consumed).
    func consumeCode(tenantID: String, codeHash: String, now: Date) async throws -> CodeConsumption
    /// Records the session the code's exchange started (for revoking it if the code comes back).
    func attachSession(tenantID: String, codeHash: String, sessionID: String) async throws
}
