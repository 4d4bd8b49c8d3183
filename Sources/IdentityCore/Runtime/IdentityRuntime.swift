import Foundation
import Synchronization

/// A change other nodes must apply.
public enum Invalidation: Sendable, Equatable, Codable {
    /// Tenant record, policy or keys changed: drop cached tenant data (nil: every tenant).
    case tenant(String?)
    /// Sessions or tokens were revoked (and written to the store and the shared cache): remember them.
    case revocations([Revocation])
}

/// Carries invalidations to every node (Redis pub/sub when configured). The local node applies its own
/// invalidations before publishing, so a bus only has to reach the others.
public protocol InvalidationBus: Sendable {
    /// Publishes `invalidation` to the other nodes; failures are logged by the bus, never thrown.
    func publish(_ invalidation: Invalidation) async
}

/// The bus of a single node: there is nobody else to tell.
public struct LocalInvalidationBus: InvalidationBus {
    public init() {}
    public func publish(_ invalidation: Invalidation) async {}
}

/// The parts every operation of the core needs, assembled once at start-up by the executable (or a test).
public struct IdentityRuntime: Sendable {
    public let store: any IdentityStore
    public let clock: any IdentityClock
    public let random: any RandomSource
    public let hasher: PasswordHasher
    public let box: SecretBox
    public let keys: SigningKeyFactory
    public let directory: TenantDirectory
    public let revocations: RevocationList
    public let audit: AuditLog
    public let bus: any InvalidationBus
    public let limits: any RateLimitCounters
    public let log: LogSink
    let verifiedSecrets = VerifiedSecretCache()
    let successors = RefreshSuccessorCache()

    public init(store: any IdentityStore, clock: any IdentityClock, random: any RandomSource, hasher: PasswordHasher, masterKey: [UInt8],
                publicURL: String, revocationCache: any RevocationCache, bus: any InvalidationBus = LocalInvalidationBus(),
                limits: any RateLimitCounters = InProcessRateLimitCounters(), log: LogSink, tenantCacheTTL: TimeInterval = 30) throws {
        self.store = store
        self.clock = clock
        self.random = random
        self.hasher = hasher
        self.box = try SecretBox(masterKey: masterKey)
        self.keys = SigningKeyFactory(box: box, random: random)
        self.directory = TenantDirectory(store: store, box: box, clock: clock, publicURL: publicURL, ttl: tenantCacheTTL)
        self.revocations = RevocationList(store: store, cache: revocationCache, bus: bus, logger: log)
        self.audit = AuditLog(store: store, logger: log)
        self.bus = bus
        self.limits = limits
        self.log = log
    }

    /// Drops cached data of `tenantID` here and on every other node.
    public func invalidate(tenant tenantID: String?) async {
        directory.invalidate(tenantID)
        await bus.publish(.tenant(tenantID))
    }

    /// Applies an invalidation received from another node.
    public func apply(_ invalidation: Invalidation) {
        switch invalidation {
        case .tenant(let id): directory.invalidate(id)
        case .revocations(let list): revocations.cache.learn(list)
        }
    }

    /// The context of an active tenant for the token endpoints, once the audit log has room for the events the
    /// request may record (see `AuditLog.admit()`).
    func activeTenant(_ tenantID: String) async throws -> TenantContext {
        try await audit.admit()
        guard let context = try await directory.context(for: tenantID) else {
            throw OAuthError.invalidClient(reason: "unknown_tenant")
        }
        guard context.tenant.status == .active else { throw OAuthError.invalidClient(reason: "tenant_suspended") }
        return context
    }
}

/// Remembers, per node, which client secrets have already passed the scrypt check, as their SHA-256, so that
/// a client authenticating thousands of times a second pays for scrypt once. Keyed by the stored hash, so a
/// secret change (a new hash) forgets the old secret. Concurrent checks of one secret share one scrypt run:
/// a node that starts under load would otherwise hash the same secret once per waiting request.
final class VerifiedSecretCache: Sendable {
    private struct Check: Hashable {
        let storedHash: String
        let secretDigest: [UInt8]
    }

    private let state = Mutex<(verified: [String: [UInt8]], running: [Check: Task<Bool, Never>])>(([:], [:]))
    private let limit = 10_000

    /// Whether the secret with `secretDigest` matches `storedHash`: from memory, or by `check` (run once for
    /// all the callers asking at the same time).
    func verify(storedHash: String, secretDigest: [UInt8], check: @escaping @Sendable () async -> Bool) async -> Bool {
        let key = Check(storedHash: storedHash, secretDigest: secretDigest)
        let task = state.withLock { state -> Task<Bool, Never>? in
            if let known = state.verified[storedHash], ConstantTime.equal(known, secretDigest) { return nil }
            if let running = state.running[key] { return running }
            let task = Task { await check() }
            state.running[key] = task
            return task
        }
        guard let task else { return true }
        let matches = await task.value
        state.withLock { state in
            guard state.running[key] != nil else { return }
            state.running[key] = nil
            if matches {
                if state.verified.count >= limit { state.verified.removeAll() }
                state.verified[storedHash] = secretDigest
            }
        }
        return matches
    }
}
