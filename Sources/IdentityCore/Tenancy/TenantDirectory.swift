import Foundation
import Synchronization

/// What the directory reads: tenants with their keys, clients, and users for their tokens' claims.
public typealias DirectoryStore = TenantStore & KeyStore & ClientStore & UserStore

/// Per-node cache of `TenantContext`s. Entries live `ttl` seconds at most and are dropped at once by
/// `invalidate` — which the admin operations call on this node and the invalidation bus calls for
/// changes made on other nodes — so a policy or key change governs the next request.
public final class TenantDirectory: Sendable {
    private struct Entry {
        let context: TenantContext
        let loadedAt: Date
        let generation: UInt64
    }

    private let store: any DirectoryStore
    private let box: SecretBox
    private let clock: any IdentityClock
    private let publicURL: String
    private let ttl: TimeInterval
    private let log: LogSink?
    private let state = Mutex<(entries: [String: Entry], generation: UInt64)>(([:], 0))
    /// Clients, and users as their tokens' claims name them; dropped with their tenant.
    private let clients = RecordCache<Client>()
    private let users = RecordCache<User>()
    private let originSets = RecordCache<OriginSet>()

    public init(store: any DirectoryStore, box: SecretBox, clock: any IdentityClock, publicURL: String, ttl: TimeInterval = 30,
                log: LogSink? = nil) {
        self.log = log
        self.store = store
        self.box = box
        self.clock = clock
        self.publicURL = publicURL
        self.ttl = ttl
    }

    /// The issuer URL of `tenantID`.
    public func issuer(of tenantID: String) -> String { publicURL + "/t/" + tenantID }

    /// The tenant's context, from cache when fresh; nil when the tenant does not exist — or when `tenantID`
    /// is not a tenant id at all (it comes from a URL): then the store is not asked.
    public func context(for tenantID: String) async throws -> TenantContext? {
        guard Tenant.isValidID(tenantID) else { return nil }
        let now = clock.now()
        let (cached, generation) = state.withLock { state -> (Entry?, UInt64) in (state.entries[tenantID], state.generation) }
        if let cached, now.timeIntervalSince(cached.loadedAt) < ttl, cached.generation == generation {
            return cached.context
        }
        guard let tenant = try await store.tenant(id: tenantID) else { return nil }
        let keyring = try await TenantKeyring.load(try await store.signingKeys(tenantID: tenantID), box: box, now: now)
        if !keyring.unusable.isEmpty {
            log?.error("signing keys that cannot be opened are left out", ["tenant": tenantID, "kids": keyring.unusable.joined(separator: ",")])
        }
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
        try await cached(clients, tenantID: tenantID, id: id) { try await self.store.client(tenantID: tenantID, id: id) }
    }

    /// A user of `tenantID` for the claims of ID tokens and introspection answers (username, email), from
    /// cache when fresh; never for authenticating: logins read the store.
    public func userForClaims(tenantID: String, id: String) async throws -> User? {
        try await cached(users, tenantID: tenantID, id: id) { try await self.store.user(tenantID: tenantID, id: id) }
    }

    private func cached<Record: Sendable>(_ cache: RecordCache<Record>, tenantID: String, id: String,
                                          load: () async throws -> Record?) async throws -> Record? {
        let now = clock.now()
        let generation = state.withLock { $0.generation }
        if let hit = cache.record(tenantID: tenantID, id: id, now: now, ttl: ttl, generation: generation) { return hit }
        guard let record = try await load() else { return nil }
        // A load that raced with an invalidation must not put stale data back.
        cache.store(record, tenantID: tenantID, id: id, loadedAt: now, generation: generation) { state.withLock { $0.generation } }
        return record
    }

    /// The origins of the tenant's public clients' redirect URIs: the origins its token, revocation and
    /// userinfo endpoints answer cross-origin requests from (CORS). Cached like clients.
    public func corsOrigins(tenantID: String) async throws -> Set<String> {
        guard Tenant.isValidID(tenantID) else { return [] }
        let origins = try await cached(originSets, tenantID: tenantID, id: "") {
            let clients = try await self.store.clients(tenantID: tenantID).filter { $0.kind == .public }
            return OriginSet(origins: Set(clients.flatMap(\.redirectURIs).compactMap(Self.origin)))
        }
        return origins?.origins ?? []
    }

    /// `scheme://host[:port]` of a URL, lower-cased, default ports left out (RFC 6454).
    public static func origin(_ uri: String) -> String? {
        guard let url = URLComponents(string: uri), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host?.lowercased(), !host.isEmpty else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        return url.port.map { $0 == defaultPort ? "\(scheme)://\(host)" : "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }

    /// Drops the cached context, clients and users of `tenantID` (nil: of every tenant).
    public func invalidate(_ tenantID: String?) {
        state.withLock { state in
            state.generation &+= 1
            if let tenantID { state.entries[tenantID] = nil } else { state.entries.removeAll() }
        }
        clients.drop(tenantID)
        users.drop(tenantID)
        originSets.drop(tenantID)
    }
}

/// A tenant's CORS origins, as the directory caches them.
struct OriginSet: Sendable {
    let origins: Set<String>
}
