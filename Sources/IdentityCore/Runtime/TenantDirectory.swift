import Foundation
import Synchronization

/// A tenant as the token endpoints need it: its record, policy and loaded keys.
public struct TenantContext: Sendable {
    public let tenant: Tenant
    public let keyring: TenantKeyring
    /// `{public URL}/t/{id}`.
    public let issuer: String
    public var policy: TenantPolicy { tenant.policy }
}

/// Per-node cache of `TenantContext`s. Entries live `ttl` seconds at most and are dropped at once by
/// `invalidate` — which the admin operations call on this node and the invalidation bus calls for
/// changes made on other nodes — so a policy or key change governs the next request.
public final class TenantDirectory: Sendable {
    private struct Entry {
        let context: TenantContext
        let loadedAt: Date
        let generation: UInt64
    }

    private let store: any IdentityStore
    private let box: SecretBox
    private let clock: any IdentityClock
    private let publicURL: String
    private let ttl: TimeInterval
    private let state = Mutex<(entries: [String: Entry], generation: UInt64)>(([:], 0))
    /// Clients by tenant, then id, with the time they were loaded; dropped with their tenant.
    private let clients = Mutex<[String: [String: (client: Client, loadedAt: Date, generation: UInt64)]]>([:])

    public init(store: any IdentityStore, box: SecretBox, clock: any IdentityClock, publicURL: String, ttl: TimeInterval = 30) {
        self.store = store
        self.box = box
        self.clock = clock
        self.publicURL = publicURL
        self.ttl = ttl
    }

    /// The issuer URL of `tenantID`.
    public func issuer(of tenantID: String) -> String { publicURL + "/t/" + tenantID }

    /// The tenant's context, from cache when fresh; nil when the tenant does not exist.
    public func context(for tenantID: String) async throws -> TenantContext? {
        let now = clock.now()
        let (cached, generation) = state.withLock { state -> (Entry?, UInt64) in (state.entries[tenantID], state.generation) }
        if let cached, now.timeIntervalSince(cached.loadedAt) < ttl, cached.generation == generation {
            return cached.context
        }
        guard let tenant = try await store.tenant(id: tenantID) else { return nil }
        let keyring = try await TenantKeyring.load(try await store.signingKeys(tenantID: tenantID), box: box, now: now)
        let context = TenantContext(tenant: tenant, keyring: keyring, issuer: issuer(of: tenantID))
        state.withLock { state in
            // A load that raced with an invalidation must not put stale data back.
            if state.generation == generation { state.entries[tenantID] = Entry(context: context, loadedAt: now, generation: generation) }
        }
        return context
    }

    /// A client of `tenantID`, from cache when fresh (a token request would otherwise read it every time);
    /// nil when it does not exist (not cached: a client created a moment ago is found at once).
    public func client(tenantID: String, id: String) async throws -> Client? {
        let now = clock.now()
        let generation = state.withLock { $0.generation }
        if let cached = clients.withLock({ $0[tenantID]?[id] }), now.timeIntervalSince(cached.loadedAt) < ttl, cached.generation == generation {
            return cached.client
        }
        guard let client = try await store.client(tenantID: tenantID, id: id) else { return nil }
        clients.withLock { clients in
            guard state.withLock({ $0.generation }) == generation else { return }
            if clients[tenantID, default: [:]].count >= 10_000 { clients[tenantID] = [:] }
            clients[tenantID, default: [:]][id] = (client, now, generation)
        }
        return client
    }

    /// Drops the cached context and clients of `tenantID` (nil: of every tenant).
    public func invalidate(_ tenantID: String?) {
        state.withLock { state in
            state.generation &+= 1
            if let tenantID { state.entries[tenantID] = nil } else { state.entries.removeAll() }
        }
        clients.withLock { clients in
            if let tenantID { clients[tenantID] = nil } else { clients.removeAll() }
        }
    }
}
