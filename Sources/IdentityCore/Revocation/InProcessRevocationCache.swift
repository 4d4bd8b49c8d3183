import Foundation
import Synchronization

/// A `RevocationCache` in this process's memory: right for a single node (every revocation goes through it).
public final class InProcessRevocationCache: RevocationCache {
    private let entries = Mutex<[String: Date]>([:])
    private let clock: any IdentityClock
    /// Past this many entries, expired ones are dropped before another is added.
    static let pruneAbove = 100_000

    public init(clock: any IdentityClock = SystemClock()) { self.clock = clock }

    static func key(_ tenantID: String, _ kind: Revocation.Kind, _ value: String) -> String {
        tenantID + "\u{1F}" + kind.rawValue + "\u{1F}" + value
    }

    public func add(_ revocations: [Revocation]) async throws { learn(revocations) }

    public func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool {
        entries.withLock { entries in
            func revoked(_ kind: Revocation.Kind, _ value: String?) -> Bool {
                guard let value, let until = entries[Self.key(tenantID, kind, value)] else { return false }
                return now < until
            }
            return revoked(.session, sid) || revoked(.token, jti)
        }
    }

    /// Drops entries expired at `now`.
    public func purge(now: Date) {
        entries.withLock { entries in entries = entries.filter { now < $0.value } }
    }

    public func learn(_ revocations: [Revocation]) {
        let now = clock.now()
        entries.withLock { entries in
            if entries.count > Self.pruneAbove { entries = entries.filter { now < $0.value } }
            for revocation in revocations {
                let key = Self.key(revocation.tenantID, revocation.kind, revocation.value)
                entries[key] = max(entries[key] ?? .distantPast, revocation.expiresAt)
            }
        }
    }
}
