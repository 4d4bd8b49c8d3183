import Foundation

/// The composition root: every piece of the core, assembled once at start-up by the executable (or a test)
/// from the injected parts — store, clock, randomness, hasher, caches — and handed to the HTTP layer. Each
/// piece holds only the capabilities it uses (fosite's `compose`); this type holds the pieces.
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
    public let log: LogSink
    public let metrics: IdentityMetrics
    public let alerts: AlertMonitor

    public let tokens: TokenIssuer
    public let verifier: AccessTokenVerifier
    public let clients: ClientAuthenticator
    public let users: UserAuthenticator
    public let sessions: SessionStarter
    public let revoker: SessionRevoker
    public let gate: ClientGate
    public let dpop: DPoPGate
    public let tokenEndpoint: TokenEndpoint
    public let introspection: IntrospectionEndpoint
    public let revocation: RevocationEndpoint
    public let logout: LogoutEndpoint
    public let userInfo: UserInfoEndpoint
    public let authorize: AuthorizeEndpoint
    public let pushedAuthorization: PushedAuthorizationEndpoint
    public let endSession: EndSessionEndpoint

    /// `acceptsLegacySecrets`: whether secrets sealed before they were bound to their row still open (until
    /// `SealedSecretMigration` has run).
    public init(store: any IdentityStore, clock: any IdentityClock, random: any RandomSource, hasher: PasswordHasher, masterKey: [UInt8],
                publicURL: String, revocationCache: any RevocationCache, bus: any InvalidationBus = LocalInvalidationBus(),
                limits: any RateLimitCounters = InProcessRateLimitCounters(), dpopReplays: any DPoPReplayCache = InProcessDPoPReplayCache(),
                log: LogSink, metrics: IdentityMetrics = IdentityMetrics(), tenantCacheTTL: TimeInterval = 30,
                acceptsLegacySecrets: Bool = true) throws {
        self.store = store
        self.clock = clock
        self.random = random
        self.hasher = hasher
        self.box = try SecretBox(masterKey: masterKey, acceptsLegacy: acceptsLegacySecrets)
        self.keys = SigningKeyFactory(box: box, random: random)
        self.directory = TenantDirectory(store: store, box: box, clock: clock, publicURL: publicURL, ttl: tenantCacheTTL, log: log)
        self.revocations = RevocationList(store: store, cache: revocationCache, bus: bus, logger: log)
        self.metrics = metrics
        self.audit = AuditLog(store: store, logger: log, random: random, metrics: metrics)
        self.bus = bus
        self.log = log

        tokens = TokenIssuer(random: random)
        verifier = AccessTokenVerifier(revocations: revocations, directory: directory, clock: clock)
        alerts = AlertMonitor(counters: limits, audit: audit, outbox: store, random: random, log: log)
        let throttle = LoginThrottle(counters: limits, metrics: metrics)
        clients = ClientAuthenticator(directory: directory, hasher: hasher, throttle: throttle, audit: audit, clock: clock)
        users = UserAuthenticator(store: store, hasher: hasher, box: box, throttle: throttle, audit: audit, clock: clock)
        sessions = SessionStarter(store: store, tokens: tokens, audit: audit, random: random, clock: clock)
        revoker = SessionRevoker(store: store, revocations: revocations, audit: audit, clock: clock)
        gate = ClientGate(audit: audit, directory: directory, limiter: RequestLimiter(counters: limits, metrics: metrics), authenticator: clients)
        let stepUp = StepUpGate(audit: audit, clock: clock)
        dpop = DPoPGate(nonces: DPoPNonces(box: box), replays: dpopReplays, audit: audit, clock: clock)
        tokenEndpoint = TokenEndpoint(gate: gate, dpop: dpop, handlers: [
            PasswordGrant(users: users, sessions: sessions, stepUp: stepUp),
            ClientCredentialsGrant(tokens: tokens, audit: audit, clock: clock),
            RefreshTokenGrant(store: store, tokens: tokens, directory: directory, revoker: revoker, stepUp: stepUp, audit: audit, alerts: alerts,
                              clock: clock),
            AuthorizationCodeGrant(codes: store, users: store, sessions: sessions, revoker: revoker, audit: audit, clock: clock),
        ])
        introspection = IntrospectionEndpoint(gate: gate, verifier: verifier, store: store, tokens: tokens, directory: directory, clock: clock)
        revocation = RevocationEndpoint(gate: gate, dpop: dpop, revocations: revocations, revoker: revoker, store: store, tokens: tokens, audit: audit, clock: clock)
        logout = LogoutEndpoint(gate: gate, revoker: revoker, store: store, tokens: tokens, clock: clock)
        userInfo = UserInfoEndpoint(directory: directory, verifier: verifier, users: store, dpop: dpop)
        let seal = InteractionSeal(box: box)
        authorize = AuthorizeEndpoint(directory: directory, users: users, userStore: store, browserSessions: store, consents: store, codes: store,
                                      seal: seal, audit: audit, random: random, clock: clock)
        pushedAuthorization = PushedAuthorizationEndpoint(gate: gate, dpop: dpop, seal: seal, clock: clock)
        endSession = EndSessionEndpoint(directory: directory, authorize: authorize, browserSessions: store, sessions: store, revoker: revoker, audit: audit,
                                        random: random, clock: clock)
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
}
