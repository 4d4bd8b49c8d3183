import Foundation
import Synchronization

extension IdentityRuntime {
    /// `grant_type=refresh_token`: looks the token up, lets `RefreshRotation` decide, and executes the decision
    /// with the store's compare-and-set. A lost race re-reads and decides again (the loser then sees a rotated
    /// token: within the grace window it gets its own successor, past it the family is revoked).
    func refreshGrant(_ request: TokenRequest, client: Client, context: TenantContext) async throws -> TokenResponse {
        let presented = try request.required("refresh_token")
        let tenantID = context.tenant.id, origin = request.origin
        let hashPrefix = TokenDigest.prefix(presented)
        let requestedScopes = try request.scopes()
        func failed(_ reason: String, session: Session? = nil) -> OAuthError {
            audit.record(AuditEvent(tenantID: tenantID, kind: .refreshFailed, time: clock.now(), userID: session?.userID, clientID: client.id,
                                    sessionID: session?.id, tokenHashPrefix: hashPrefix, ip: origin.ip, userAgent: origin.userAgent, detail: reason))
            return OAuthError.invalidGrant(reason: reason)
        }

        let lookupKey: String
        do {
            lookupKey = try await refreshLookupKey(presented, in: context, now: clock.now())
        } catch let error as OAuthError {
            throw failed(error.reason)
        }
        // A successor this node issued usually comes back to it: then what the store would answer is what this
        // node wrote, and the lookup is skipped. The store's compare-and-set and its check that the session is
        // live still decide; anything but a clean rotation is decided again on what the store says.
        var remembered = successors.take(tenantID: tenantID, lookupKey: lookupKey)
        for _ in 0..<4 {
            let fromMemory = remembered != nil
            let found = if let hit = remembered.take() { hit } else { try await store.refreshToken(tenantID: tenantID, lookupKey: lookupKey) }
            guard let (token, session) = found else {
                throw failed("unknown_token")
            }
            let now = clock.now()
            let input = RefreshRotation.Input(tenantID: tenantID, token: token, session: session, clientID: client.id, policy: context.policy, now: now)
            switch RefreshRotation.decide(input) {
            case .reject where fromMemory, .revokeFamily where fromMemory:
                continue
            case .reject(let rejection):
                throw failed(rejection.rawValue, session: session)
            case .revokeFamily:
                let revoked = try await revokeSessions(tenantID: tenantID, ids: [session.id], reason: "refresh_token_reused", origin: origin)
                audit.record(AuditEvent(tenantID: tenantID, kind: .refreshTokenReused, time: now, userID: session.userID, clientID: client.id,
                                        sessionID: session.id, tokenHashPrefix: hashPrefix, ip: origin.ip, userAgent: origin.userAgent,
                                        detail: revoked.isEmpty ? "family_already_revoked" : "family_revoked"))
                throw OAuthError.invalidGrant(reason: "refresh_token_reused")
            case .issue(let mode, let idleExpiresAt):
                let scopes = try grantableScopes(requested: requestedScopes, allowed: session.scopes, acr: session.acr, authTime: session.authTime,
                                                 now: now, policy: context.policy, context: context, client: client, userID: session.userID,
                                                 origin: origin, sessionID: session.id)
                let successor = mode == .reuseSameToken
                    ? nil : try await mintRefreshToken(in: context, session: session, parentKey: token.lookupKey, now: now)
                let accessExpiresAt = now.addingTimeInterval(TimeInterval(context.policy.accessTokenTTL)).truncatedToSeconds
                let transition = RefreshRotation.transition(for: mode)
                let write = RefreshWrite(tenantID: tenantID, presentedKey: token.lookupKey, expectedState: transition.expected,
                                         newState: transition.new, now: now, successor: successor?.record, sessionID: session.id,
                                         lastUsedAt: now, idleExpiresAt: idleExpiresAt, accessExpiresAt: max(session.accessExpiresAt, accessExpiresAt))
                switch try await store.applyRefresh(write) {
                case .tokenChanged:
                    continue
                case .sessionNotLive:
                    if fromMemory { continue }
                    throw failed("session_not_live", session: session)
                case .applied:
                    var slid = session
                    slid.lastUsedAt = now
                    slid.idleExpiresAt = idleExpiresAt
                    if let successor {
                        var written = slid
                        written.accessExpiresAt = write.accessExpiresAt
                        successors.remember(successor.record, session: written)
                    }
                    let access = try await mintAccessToken(in: context, subject: session.userID, clientID: client.id, scopes: scopes,
                                                           audience: try audience(request.parameters["resource"], in: context), session: slid, now: now)
                    var idToken: String?
                    if scopes.contains("openid"), let user = try await directory.userForClaims(tenantID: tenantID, id: session.userID) {
                        idToken = try await mintIDToken(in: context, user: user, session: slid, now: now)
                    }
                    audit.record(AuditEvent(tenantID: tenantID, kind: .tokenRefreshed, time: now, userID: session.userID, clientID: client.id,
                                            sessionID: session.id, tokenHashPrefix: hashPrefix, ip: origin.ip, userAgent: origin.userAgent,
                                            detail: mode == .rotate ? "rotated" : mode == .graceRetry ? "grace_retry" : "not_rotated"))
                    return TokenResponse(accessToken: access.token, tokenType: "Bearer", expiresIn: context.policy.accessTokenTTL,
                                         refreshToken: successor?.token ?? presented, scope: Scope.join(scopes), idToken: idToken)
                }
            }
        }
        throw failed("contention")
    }

    /// Revokes sessions with their refresh-token families and, through the revocation list, their access
    /// tokens; records one `session_revoked` event each. Returns the sessions this call revoked.
    @discardableResult
    public func revokeSessions(tenantID: String, ids: [String], reason: String, origin: RequestOrigin = .init()) async throws -> [Session] {
        let now = clock.now()
        let revoked = try await store.revokeSessions(tenantID: tenantID, ids: ids, at: now)
        await afterRevoking(revoked, reason: reason, origin: origin, now: now)
        return revoked
    }

    /// Publishes the revocations of sessions the store has just revoked, and records them.
    func afterRevoking(_ sessions: [Session], reason: String, origin: RequestOrigin, now: Date) async {
        await revocations.publish(sessions.map(\.revocation))
        for session in sessions {
            audit.record(AuditEvent(tenantID: session.tenantID, kind: .sessionRevoked, time: now, userID: session.userID, clientID: session.clientID,
                                    sessionID: session.id, ip: origin.ip, userAgent: origin.userAgent, detail: reason))
        }
    }
}

extension Session {
    /// The revocation-list entry for this session: its sid, until its last access token expires.
    public var revocation: Revocation {
        Revocation(tenantID: tenantID, kind: .session, value: id, expiresAt: accessExpiresAt)
    }
}

extension Date {
    /// This instant rounded down to a whole second, as JWT `exp` claims are.
    var truncatedToSeconds: Date { Date(timeIntervalSince1970: TimeInterval(secondsSince1970)) }
}

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
    func take(tenantID: String, lookupKey: String) -> (token: RefreshTokenRecord, session: Session)? {
        entries.withLock { $0.removeValue(forKey: Key(tenantID: tenantID, lookupKey: lookupKey)) }
    }
}
