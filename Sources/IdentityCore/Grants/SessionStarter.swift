import Foundation

/// Starts a session — one authentication of a user on a client, the family of its refresh tokens — and
/// issues its first tokens: what the password grant and the authorization code grant share.
public struct SessionStarter: Sendable {
    let store: any SessionStore
    let tokens: TokenIssuer
    let audit: AuditLog
    let random: any RandomSource
    let clock: any IdentityClock

    public init(store: any SessionStore, tokens: TokenIssuer, audit: AuditLog, random: any RandomSource, clock: any IdentityClock) {
        self.store = store
        self.tokens = tokens
        self.audit = audit
        self.random = random
        self.clock = clock
    }

    /// What the new session grants and how its tokens are issued.
    public struct Grant: Sendable {
        public var authentication: AuthenticatedUser
        public var client: Client
        public var scopes: [String]
        public var audience: String
        /// Whether a refresh token is issued.
        public var refresh: Bool
        public var origin: RequestOrigin
        /// The `token_issued` event's detail (`password acr=pwd`).
        public var detail: String
        /// The ID token's `nonce` (the authorization request's).
        public var nonce: String?
        /// The browser session (SSO) the authentication happened in: its end ends this session too.
        public var browserSessionID: String?
        /// The DPoP key the session is bound to: every refresh must prove it.
        public var dpopJKT: String?

        public init(authentication: AuthenticatedUser, client: Client, scopes: [String], audience: String, refresh: Bool,
                    origin: RequestOrigin, detail: String) {
            self.authentication = authentication
            self.client = client
            self.scopes = scopes
            self.audience = audience
            self.refresh = refresh
            self.origin = origin
            self.detail = detail
        }
    }

    /// Persists the session with its first refresh token (one store call) and answers its tokens; an ID
    /// token too when `openid` is granted.
    public func start(_ grant: Grant, in context: TenantContext) async throws -> TokenResponse {
        try await startReturningSession(grant, in: context).0
    }

    /// `start`, with the session it created.
    public func startReturningSession(_ grant: Grant, in context: TenantContext) async throws -> (TokenResponse, Session) {
        let now = clock.now(), policy = context.policy, user = grant.authentication.user, level = grant.authentication.level
        let absolute = now.addingTimeInterval(TimeInterval(policy.sessionMaxTTL))
        var session = Session(tenantID: context.tenant.id, id: random.identifier(prefix: "sid"), userID: user.id, clientID: grant.client.id,
                              scopes: grant.scopes, acr: level, amr: grant.authentication.methods, authTime: grant.authentication.authTime, createdAt: now,
                              lastUsedAt: now, idleExpiresAt: min(now.addingTimeInterval(TimeInterval(policy.sessionIdleTTL)), absolute),
                              absoluteExpiresAt: absolute, accessExpiresAt: now, dpopJKT: grant.dpopJKT, ip: grant.origin.ip,
                              userAgent: grant.origin.userAgent, browserSessionID: grant.browserSessionID)
        let access = try await tokens.accessToken(in: context, subject: user.id, clientID: grant.client.id, scopes: grant.scopes,
                                                  audience: grant.audience, session: session, now: now)
        session.accessExpiresAt = Date(timeIntervalSince1970: TimeInterval(access.claims.exp))
        let refresh = grant.refresh ? try await tokens.refreshToken(in: context, session: session, parentKey: nil, now: now) : nil
        try await audit.metrics.storeOperation("create_session") { try await store.createSession(session, firstToken: refresh?.record) }
        let idToken = grant.scopes.contains("openid")
            ? try await tokens.idToken(in: context, user: user, session: session, now: now, nonce: grant.nonce, accessToken: access.token) : nil
        audit.record(.tokenIssued, tenantID: context.tenant.id, at: now, origin: grant.origin, user: user.id, client: grant.client.id,
                     session: session.id, token: TokenDigest.prefix(access.token), detail: grant.detail)
        return (TokenResponse(accessToken: access.token, tokenType: TokenResponse.tokenType(access.claims), expiresIn: policy.accessTokenTTL,
                              refreshToken: refresh?.token, scope: Scope.join(grant.scopes), idToken: idToken), session)
    }
}
