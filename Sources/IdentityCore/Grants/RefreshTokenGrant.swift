import Foundation

/// `grant_type=refresh_token`: validates the whole request first (the token's form, `scope`, `resource`),
/// then runs `RefreshAttempt` — the token looked up (or remembered), decided on by `RefreshRotation`, the
/// decision executed with the store's compare-and-set — and mints the answer once the write is applied.
/// Nothing is minted or signed twice when a lost race makes it write again.
public struct RefreshTokenGrant: GrantHandler {
    public var grantType: GrantType { .refreshToken }
    let store: any SessionStore
    let tokens: TokenIssuer
    /// For the ID token's claims.
    let directory: TenantDirectory
    let revoker: SessionRevoker
    let stepUp: StepUpGate
    let audit: AuditLog
    /// Told of every refresh the tenant's alert rules watch; raises the reuse alert.
    let alerts: AlertMonitor
    let clock: any IdentityClock
    let successors = RefreshSuccessorCache()

    /// The request, validated before any store access.
    struct Parsed {
        var presented: String
        var lookupKey: String
        var scopes: [String]?
        var audience: String
    }

    func parse(_ request: TokenRequest, in context: TenantContext, failed: (String) -> OAuthError) async throws -> Parsed {
        let presented = try request.required("refresh_token")
        let scopes = try request.scopes(), audience = try request.audience(issuer: context.issuer)
        do {
            let key = try await tokens.refreshLookupKey(presented, in: context, now: clock.now())
            return Parsed(presented: presented, lookupKey: key, scopes: scopes, audience: audience)
        } catch let error as OAuthError {
            throw failed(error.reason)
        }
    }

    public func respond(to request: TokenRequest, client: Client, in context: TenantContext) async throws -> TokenResponse {
        let tenantID = context.tenant.id, origin = request.origin
        let hashPrefix = request.parameters["refresh_token"].map(TokenDigest.prefix)
        func failed(_ reason: String, session: Session? = nil) -> OAuthError {
            let now = clock.now()
            audit.record(.refreshFailed, tenantID: tenantID, at: now, origin: origin, user: session?.userID, client: client.id,
                         session: session?.id, token: hashPrefix, detail: reason)
            alerts.observe(.init(tenantID: tenantID, rules: context.policy.alerts, userID: session?.userID, clientID: client.id, sessionID: session?.id,
                                 succeeded: false, ip: origin.ip, userAgent: origin.userAgent, sessionIP: session?.ip,
                                 sessionUserAgent: session?.userAgent, time: now))
            return OAuthError.invalidGrant(reason: reason)
        }
        let parsed = try await parse(request, in: context, failed: { failed($0) })
        /// A session bound to a DPoP key acts only with a proof of that key — to rotate, and to trip reuse
        /// detection (a stolen token without the key can do neither).
        func checkBinding(_ session: Session) throws {
            guard let bound = session.dpopJKT, request.proof?.jkt != bound else { return }
            let reason = request.proof == nil ? "dpop_proof_missing" : "dpop_key_not_bound"
            audit.record(.dpopProofRefused, tenantID: tenantID, at: clock.now(), origin: origin, user: session.userID, client: client.id,
                         session: session.id, token: hashPrefix, detail: reason)
            throw OAuthError.invalidDPoPProof(reason: reason)
        }

        // A public client's refresh tokens always rotate, whatever the tenant's policy (DESIGN.md).
        var policy = context.policy
        if client.kind == .public { policy.refreshTokenRotation = true }
        var attempt = RefreshAttempt(tenantID: tenantID, clientID: client.id, policy: policy)
        var action = attempt.start(remembered: successors.take(tenantID: tenantID, lookupKey: parsed.lookupKey), now: clock.now())
        var granted: (scopes: [String], successor: (token: String, record: RefreshTokenRecord)?)?
        var write: RefreshWrite?
        while true {
            switch action {
            case .readStore:
                let found = try await audit.metrics.storeOperation("find_refresh_token") {
                    try await store.refreshToken(tenantID: tenantID, lookupKey: parsed.lookupKey)
                }
                action = attempt.found(found, from: .store, now: clock.now())
            case .write(let issue):
                let now = clock.now(), session = issue.session
                try checkBinding(session)
                if granted == nil {
                    // Decided once: the session's scopes, acr and auth_time do not change between reads.
                    // What the client may still have: narrowing a client's scopes reaches its existing sessions.
                    let allowed = session.scopes.filter(client.scopes.contains)
                    let outcome = try ScopeGrant.resolve(requested: parsed.scopes, allowed: allowed, level: session.acr,
                                                         authTime: session.authTime, now: now, policy: context.policy)
                    let scopes = try stepUp.scopes(outcome, tenantID: tenantID, origin: origin, user: session.userID, client: client.id,
                                                   session: session.id)
                    granted = (scopes, nil)
                }
                if issue.issuesSuccessor, granted?.successor == nil {
                    granted?.successor = try await tokens.refreshToken(in: context, session: session, parentKey: issue.token.lookupKey, now: now)
                }
                let accessExpiresAt = now.addingTimeInterval(TimeInterval(context.policy.accessTokenTTL)).truncatedToSeconds
                let planned = RefreshWrite(tenantID: tenantID, presentedKey: issue.token.lookupKey, expectedState: issue.expected,
                                           newState: issue.new, now: now, successor: issue.issuesSuccessor ? granted?.successor?.record : nil,
                                           sessionID: session.id, lastUsedAt: now, idleExpiresAt: issue.idleExpiresAt,
                                           accessExpiresAt: max(session.accessExpiresAt, accessExpiresAt),
                                           graceLimit: issue.mode == .graceRetry ? context.policy.refreshReuseGraceCount : nil,
                                           supersedes: issue.mode == .rotate ? issue.token.parentKey : nil)
                write = planned
                action = attempt.wrote(try await audit.metrics.storeOperation("apply_refresh") { try await store.applyRefresh(planned) })
            case .succeed(let issue):
                guard let write, let granted else { preconditionFailure("RefreshAttempt succeeded without a write") }
                return try await respond(issue, write: write, scopes: granted.scopes, successor: issue.issuesSuccessor ? granted.successor : nil,
                                         presented: parsed.presented, audience: parsed.audience, client: client, context: context, origin: origin,
                                         proof: request.proof)
            case .revokeFamily(let session):
                try checkBinding(session)
                // The tenant's reuse_response: the family (this session), or every session of the user.
                let selection: SessionRevoker.Selection = context.policy.reuseResponse == .user ? .user(session.userID) : .sessions([session.id])
                let revoked = try await revoker.revoke(selection, tenantID: tenantID, reason: "refresh_token_reused", origin: origin)
                let now = clock.now(), scope = context.policy.reuseResponse.rawValue
                audit.record(.refreshTokenReused, tenantID: tenantID, at: now, origin: origin, user: session.userID, client: client.id,
                             session: session.id, token: hashPrefix, detail: revoked.isEmpty ? "\(scope)_already_revoked" : "\(scope)_revoked")
                alerts.raise(SecurityAlert(rule: .reuseDetected, tenantID: tenantID, userID: session.userID, clientID: client.id, sessionID: session.id,
                                           figures: [("response", scope), ("sessions_revoked", "\(revoked.count)")], time: now),
                             webhook: context.policy.alerts.webhookURL)
                throw OAuthError.invalidGrant(reason: "refresh_token_reused")
            case .reject(let reason, let session):
                throw failed(reason, session: session)
            }
        }
    }

    /// The answer to an applied write: the access token (and ID token) minted for the slid session.
    private func respond(_ issue: RefreshRotation.Issue, write: RefreshWrite, scopes: [String], successor: (token: String, record: RefreshTokenRecord)?,
                         presented: String, audience: String, client: Client, context: TenantContext, origin: RequestOrigin,
                         proof: DPoPProof?) async throws -> TokenResponse
    {
        let now = write.now
        var slid = issue.session
        slid.lastUsedAt = now
        slid.idleExpiresAt = issue.idleExpiresAt
        if let successor {
            var written = slid
            written.accessExpiresAt = write.accessExpiresAt
            successors.remember(successor.record, session: written)
        }
        // An unbound session stays unbound; a proof sent with its refresh binds the access token alone.
        let access = try await tokens.accessToken(in: context, subject: slid.userID, clientID: client.id, scopes: scopes, audience: audience,
                                                  session: slid, now: now, jkt: slid.dpopJKT ?? proof?.jkt)
        var idToken: String?
        if scopes.contains("openid"), let user = try await directory.userForClaims(tenantID: context.tenant.id, id: slid.userID) {
            idToken = try await tokens.idToken(in: context, user: user, session: slid, now: now)
        }
        audit.record(.tokenRefreshed, tenantID: context.tenant.id, at: now, origin: origin, user: slid.userID, client: client.id,
                     session: slid.id, token: TokenDigest.prefix(presented), detail: issue.mode.outcome)
        alerts.observe(.init(tenantID: context.tenant.id, rules: context.policy.alerts, userID: slid.userID, clientID: client.id, sessionID: slid.id,
                             succeeded: true, ip: origin.ip, userAgent: origin.userAgent, sessionIP: slid.ip, sessionUserAgent: slid.userAgent,
                             time: now))
        return TokenResponse(accessToken: access.token, tokenType: TokenResponse.tokenType(access.claims), expiresIn: context.policy.accessTokenTTL,
                             refreshToken: successor?.token ?? presented, scope: Scope.join(scopes), idToken: idToken)
    }
}
