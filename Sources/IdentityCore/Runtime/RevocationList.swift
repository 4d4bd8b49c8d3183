import Foundation
import Synchronization

/// The fast revocation lookup every node consults: in-process, or shared (Redis) so that every node sees a
/// revocation at once. Entries expire on their own at `Revocation.expiresAt`.
public protocol RevocationCache: Sendable {
    /// Records the revocations. Throws when the cache cannot be reached.
    func add(_ revocations: [Revocation]) async throws
    /// Whether the sid or jti of `tenantID` is revoked at `now`. Throws when the cache cannot be reached,
    /// and the caller then asks the store.
    func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool
    /// Keeps revocations another node announced (and already wrote to the shared cache) in this node's memory.
    func learn(_ revocations: [Revocation])
}

extension RevocationCache {
    public func learn(_ revocations: [Revocation]) {}
}

/// A `RevocationCache` in this process's memory: right for a single node (every revocation goes through it).
public final class InProcessRevocationCache: RevocationCache {
    private let entries = Mutex<[String: Date]>([:])

    public init() {}

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
        entries.withLock { entries in
            if entries.count > 100_000 { entries = entries.filter { Date() < $0.value } }
            for revocation in revocations {
                let key = Self.key(revocation.tenantID, revocation.kind, revocation.value)
                entries[key] = max(entries[key] ?? .distantPast, revocation.expiresAt)
            }
        }
    }
}

/// A shared cache (Redis) with this node's memory in front: revocations this node made or heard of on the
/// invalidation bus answer from memory, everything else from the shared cache. A revoked token is refused
/// here even if the shared cache is lost afterwards.
public final class LayeredRevocationCache: RevocationCache {
    let local = InProcessRevocationCache()
    let shared: any RevocationCache

    public init(shared: any RevocationCache) { self.shared = shared }

    public func add(_ revocations: [Revocation]) async throws {
        local.learn(revocations)
        try await shared.add(revocations)
    }

    public func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool {
        if try await local.isRevoked(tenantID: tenantID, sid: sid, jti: jti, now: now) { return true }
        return try await shared.isRevoked(tenantID: tenantID, sid: sid, jti: jti, now: now)
    }

    public func learn(_ revocations: [Revocation]) { local.learn(revocations) }
}

/// The revocation list: written through to the store (the source of truth) and the cache; read from the
/// cache, and from the store when the cache cannot answer, so a revoked token is never accepted.
public struct RevocationList: Sendable {
    let store: any IdentityStore
    let cache: any RevocationCache
    let bus: any InvalidationBus
    let logger: LogSink

    public init(store: any IdentityStore, cache: any RevocationCache, bus: any InvalidationBus = LocalInvalidationBus(), logger: LogSink) {
        self.store = store
        self.cache = cache
        self.bus = bus
        self.logger = logger
    }

    /// Copies the store's live revocations into the cache (on start).
    public func warm(now: Date) async throws {
        let live = try await store.revocations(liveAt: now)
        try await cache.add(live)
    }

    /// Records revocations that the store has already persisted (`revokeSessions` does so itself) in the
    /// cache, and tells the other nodes.
    public func publish(_ revocations: [Revocation]) async {
        guard !revocations.isEmpty else { return }
        do {
            try await cache.add(revocations)
        } catch {
            logger.warning("revocation cache unreachable; the store still holds the revocation", ["error": "\(error)"])
        }
        await bus.publish(.revocations(revocations))
    }

    /// Persists a revocation (a single access token) and publishes it.
    public func revoke(_ revocation: Revocation) async throws {
        try await store.addRevocation(revocation)
        await publish([revocation])
    }

    public func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool {
        do {
            return try await cache.isRevoked(tenantID: tenantID, sid: sid, jti: jti, now: now)
        } catch {
            return try await store.isRevoked(tenantID: tenantID, sid: sid, jti: jti, now: now)
        }
    }
}
