import Foundation

/// What became of a `RefreshWrite`.
public enum RefreshWriteResult: Sendable, Equatable {
    /// Everything was written.
    case applied
    /// The presented token was no longer in `expectedState` (another request won); nothing was written.
    case tokenChanged
    /// The session was revoked or expired (`idleExpiresAt`/`absoluteExpiresAt` ≤ `now`); nothing was written.
    case sessionNotLive
}
