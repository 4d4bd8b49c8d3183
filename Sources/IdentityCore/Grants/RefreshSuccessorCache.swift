import Foundation
import Synchronization

/// The refresh tokens this node issued and has not seen again, with the session as this node left it: what
/// the store's lookup would answer unless another node or a revocation has touched the family since, which
/// the store's compare-and-set and live-session check catch. Per node, bounded (emptied when full); a token
/// presented to another node is simply looked up there.
final class RefreshSuccessorCache: Sendable {
    private struct Key: Hashable {
        let tenantID: String
        let lookupKey: String
    }

    private let entries = Mutex<[Key: (token: RefreshTokenRecord, session: Session)]>([:])
    static let capacity = 10_000

    func remember(_ token: RefreshTokenRecord, session: Session) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[Key(tenantID: token.tenantID, lookupKey: token.lookupKey)] = (token, session)
        }
    }

    /// The entry for a presented token, removed: a token is used once, and a second presentation is a matter
    /// for the store to judge.
    func take(tenantID: String, lookupKey: String) -> (RefreshTokenRecord, Session)? {
        entries.withLock { $0.removeValue(forKey: Key(tenantID: tenantID, lookupKey: lookupKey)) }.map { ($0.token, $0.session) }
    }
}
