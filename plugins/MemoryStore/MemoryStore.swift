import Foundation
import IdentityCore
import Synchronization

/// Every store protocol in this process's memory, for unit tests only: nothing survives the process and
/// nothing is shared between nodes. Each operation runs under one lock, which makes it atomic.
public final class MemoryStore: IdentityStore {
    struct State {
        var tenants: [String: Tenant] = [:]
        var adminKeys: [String: String] = [:]
        var keys: [String: [String: SigningKey]] = [:]
        var clients: [String: Client] = [:]
        var users: [String: User] = [:]
        var sessions: [String: Session] = [:]
        var tokens: [String: RefreshTokenRecord] = [:]
        var revocations: [Revocation] = []
        var events: [AuditEvent] = []
        var nextEventID: Int64 = 1
        var totpSteps: [String: Int64] = [:]
        var settings: [String: String] = [:]
        var codes: [String: AuthorizationCode] = [:]
        var browserSessions: [String: BrowserSession] = [:]
        var consents: [String: Consent] = [:]
        var webhooks: [String: (delivery: WebhookDelivery, leaseUntil: Date?)] = [:]
    }

    let state = Mutex(State())

    public init() {}

    static func key(_ tenantID: String, _ id: String) -> String { tenantID + "\u{1F}" + id }

    public func migrate() async throws {}
    public func ping() async throws {}
    public func close() async throws {}

    // MARK: tenants

    public func createTenant(_ tenant: Tenant, adminKeyHash: String, keys: [SigningKey]) async throws {
        try state.withLock { state in
            guard state.tenants[tenant.id] == nil else { throw StoreError.conflict("tenant") }
            state.tenants[tenant.id] = tenant
            state.adminKeys[adminKeyHash] = tenant.id
            state.keys[tenant.id] = Dictionary(uniqueKeysWithValues: keys.map { ($0.kid, $0) })
        }
    }

    public func tenant(id: String) async throws -> Tenant? { state.withLock { $0.tenants[id] } }

    public func tenants() async throws -> [Tenant] { state.withLock { $0.tenants.values.sorted { $0.id < $1.id } } }

    public func updateTenant(_ tenant: Tenant) async throws -> Bool {
        state.withLock { state in
            guard state.tenants[tenant.id] != nil else { return false }
            state.tenants[tenant.id] = tenant
            return true
        }
    }

    public func deleteTenant(id: String) async throws -> Bool {
        state.withLock { state in
            guard state.tenants.removeValue(forKey: id) != nil else { return false }
            state.adminKeys = state.adminKeys.filter { $0.value != id }
            state.keys[id] = nil
            state.clients = state.clients.filter { $0.value.tenantID != id }
            state.users = state.users.filter { $0.value.tenantID != id }
            state.sessions = state.sessions.filter { $0.value.tenantID != id }
            state.tokens = state.tokens.filter { $0.value.tenantID != id }
            state.revocations.removeAll { $0.tenantID == id }
            state.events.removeAll { $0.tenantID == id }
            state.codes = state.codes.filter { $0.value.tenantID != id }
            state.browserSessions = state.browserSessions.filter { $0.value.tenantID != id }
            state.consents = state.consents.filter { $0.value.tenantID != id }
            state.webhooks = state.webhooks.filter { $0.value.delivery.tenantID != id }
            return true
        }
    }

    public func tenantID(adminKeyHash hash: String) async throws -> String? { state.withLock { $0.adminKeys[hash] } }

    public func replaceAdminKeyHash(tenantID: String, hash: String) async throws -> Bool {
        state.withLock { state in
            guard state.tenants[tenantID] != nil else { return false }
            state.adminKeys = state.adminKeys.filter { $0.value != tenantID }
            state.adminKeys[hash] = tenantID
            return true
        }
    }

    // MARK: keys

    public func signingKeys(tenantID: String) async throws -> [SigningKey] {
        state.withLock { ($0.keys[tenantID] ?? [:]).values.sorted { ($0.createdAt, $0.kid) > ($1.createdAt, $1.kid) } }
    }

    public func saveSigningKeys(_ keys: [SigningKey]) async throws {
        state.withLock { state in
            for key in keys { state.keys[key.tenantID, default: [:]][key.kid] = key }
        }
    }

    // MARK: clients

    public func createClient(_ client: Client) async throws {
        try state.withLock { state in
            let key = Self.key(client.tenantID, client.id)
            guard state.clients[key] == nil else { throw StoreError.conflict("client") }
            state.clients[key] = client
        }
    }

    public func client(tenantID: String, id: String) async throws -> Client? { state.withLock { $0.clients[Self.key(tenantID, id)] } }

    public func clients(tenantID: String) async throws -> [Client] {
        state.withLock { $0.clients.values.filter { $0.tenantID == tenantID }.sorted { $0.id < $1.id } }
    }

    public func updateClient(_ client: Client) async throws -> Bool {
        state.withLock { state in
            let key = Self.key(client.tenantID, client.id)
            guard state.clients[key] != nil else { return false }
            state.clients[key] = client
            return true
        }
    }

    public func deleteClient(tenantID: String, id: String) async throws -> Bool {
        state.withLock { $0.clients.removeValue(forKey: Self.key(tenantID, id)) != nil }
    }

    // MARK: users

    public func createUser(_ user: User) async throws {
        try state.withLock { state in
            guard !state.users.values.contains(where: { $0.tenantID == user.tenantID && $0.username == user.username }) else {
                throw StoreError.conflict("username")
            }
            state.users[Self.key(user.tenantID, user.id)] = user
        }
    }

    public func user(tenantID: String, id: String) async throws -> User? { state.withLock { $0.users[Self.key(tenantID, id)] } }

    public func user(tenantID: String, username: String) async throws -> User? {
        state.withLock { $0.users.values.first { $0.tenantID == tenantID && $0.username == username } }
    }

    public func users(tenantID: String) async throws -> [User] {
        state.withLock { $0.users.values.filter { $0.tenantID == tenantID }.sorted { $0.username < $1.username } }
    }

    public func updateUser(_ user: User) async throws -> Bool {
        try state.withLock { state in
            let key = Self.key(user.tenantID, user.id)
            guard state.users[key] != nil else { return false }
            if state.users.values.contains(where: { $0.tenantID == user.tenantID && $0.username == user.username && $0.id != user.id }) {
                throw StoreError.conflict("username")
            }
            state.users[key] = user
            return true
        }
    }

    public func deleteUser(tenantID: String, id: String) async throws -> Bool {
        state.withLock { $0.users.removeValue(forKey: Self.key(tenantID, id)) != nil }
    }

    public func replacePasswordHash(tenantID: String, userID: String, old: String, new: String) async throws -> Bool {
        state.withLock { state in
            let key = Self.key(tenantID, userID)
            guard var user = state.users[key], user.passwordHash == old else { return false }
            user.passwordHash = new
            state.users[key] = user
            return true
        }
    }

    public func acceptTOTPStep(tenantID: String, userID: String, step: Int64) async throws -> Bool {
        state.withLock { state in
            let key = Self.key(tenantID, userID)
            guard state.users[key] != nil, (state.totpSteps[key] ?? .min) < step else { return false }
            state.totpSteps[key] = step
            return true
        }
    }

    // MARK: settings

    public func setting(_ name: String) async throws -> String? { state.withLock { $0.settings[name] } }

    public func insertSetting(_ name: String, value: String) async throws -> String {
        state.withLock { state in
            if let existing = state.settings[name] { return existing }
            state.settings[name] = value
            return value
        }
    }

    public func replaceSetting(_ name: String, value: String) async throws { state.withLock { $0.settings[name] = value } }

    // MARK: sessions

    public func createSession(_ session: Session, firstToken: RefreshTokenRecord?) async throws {
        try state.withLock { state in
            // As the SQL stores' keys do: neither the session nor its first token may exist already.
            guard state.sessions[Self.key(session.tenantID, session.id)] == nil,
                  firstToken.map({ state.tokens[Self.key($0.tenantID, $0.lookupKey)] == nil }) ?? true else {
                throw StoreError.conflict("session")
            }
            state.sessions[Self.key(session.tenantID, session.id)] = session
            if let token = firstToken { state.tokens[Self.key(token.tenantID, token.lookupKey)] = token }
        }
    }

    public func session(tenantID: String, id: String) async throws -> Session? { state.withLock { $0.sessions[Self.key(tenantID, id)] } }

    public func liveSessions(tenantID: String, userID: String, now: Date) async throws -> [Session] {
        state.withLock { state in
            state.sessions.values.filter { $0.tenantID == tenantID && $0.userID == userID && $0.isLive(at: now) }
                .sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        }
    }

    public func liveSessions(tenantID: String, now: Date, limit: Int) async throws -> [Session] {
        state.withLock { state in
            Array(state.sessions.values.filter { $0.tenantID == tenantID && $0.isLive(at: now) }
                .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }.prefix(limit))
        }
    }

    public func refreshToken(tenantID: String, lookupKey: String) async throws -> (RefreshTokenRecord, Session)? {
        state.withLock { state in
            guard let token = state.tokens[Self.key(tenantID, lookupKey)],
                  let session = state.sessions[Self.key(tenantID, token.sessionID)] else { return nil }
            return (token, session)
        }
    }

    public func applyRefresh(_ write: RefreshWrite) async throws -> RefreshWriteResult {
        state.withLock { state in
            let tokenKey = Self.key(write.tenantID, write.presentedKey), sessionKey = Self.key(write.tenantID, write.sessionID)
            guard var token = state.tokens[tokenKey], token.state == write.expectedState,
                  write.graceLimit.map({ !token.superseded && token.graceUses < $0 }) ?? true else { return .tokenChanged }
            guard var session = state.sessions[sessionKey], session.isLive(at: write.now) else { return .sessionNotLive }
            if token.state != write.newState, write.newState == .rotated { token.rotatedAt = write.now }
            token.state = write.newState
            if write.graceLimit != nil { token.graceUses += 1 }
            state.tokens[tokenKey] = token
            if let parent = write.supersedes, var superseded = state.tokens[Self.key(write.tenantID, parent)] {
                superseded.superseded = true
                state.tokens[Self.key(write.tenantID, parent)] = superseded
            }
            session.lastUsedAt = write.lastUsedAt
            session.idleExpiresAt = write.idleExpiresAt
            session.accessExpiresAt = max(session.accessExpiresAt, write.accessExpiresAt)
            state.sessions[sessionKey] = session
            if let successor = write.successor { state.tokens[Self.key(successor.tenantID, successor.lookupKey)] = successor }
            return .applied
        }
    }

    public func revokeSessions(tenantID: String, ids: [String], at now: Date) async throws -> [Session] {
        state.withLock { state in Self.revoke(&state, tenantID: tenantID, now: now) { ids.contains($0.id) } }
    }

    public func revokeUserSessions(tenantID: String, userID: String, at now: Date) async throws -> [Session] {
        state.withLock { state in Self.revoke(&state, tenantID: tenantID, now: now) { $0.userID == userID } }
    }

    public func revokeClientSessions(tenantID: String, clientID: String, at now: Date) async throws -> [Session] {
        state.withLock { state in Self.revoke(&state, tenantID: tenantID, now: now) { $0.clientID == clientID } }
    }

    public func revokeBrowserSessionSessions(tenantID: String, browserSessionID: String, at now: Date) async throws -> [Session] {
        state.withLock { state in Self.revoke(&state, tenantID: tenantID, now: now) { $0.browserSessionID == browserSessionID } }
    }

    private static func revoke(_ state: inout State, tenantID: String, now: Date, where matches: (Session) -> Bool) -> [Session] {
        var revoked: [Session] = []
        for (key, var session) in state.sessions where session.tenantID == tenantID && session.status == .active && matches(session) {
            session.status = .revoked
            session.revokedAt = now
            state.sessions[key] = session
            revoked.append(session)
            Self.record(session.revocation, in: &state)
        }
        let ids = Set(revoked.map(\.id))
        for (key, var token) in state.tokens where token.tenantID == tenantID && ids.contains(token.sessionID) && token.state != .revoked {
            token.state = .revoked
            state.tokens[key] = token
        }
        return revoked.sorted { $0.id < $1.id }
    }

    // MARK: revocations

    public func addRevocation(_ revocation: Revocation) async throws { state.withLock { Self.record(revocation, in: &$0) } }

    /// Inserts `revocation`, or raises the expiry of the one already recorded for its kind and value.
    private static func record(_ revocation: Revocation, in state: inout State) {
        if let index = state.revocations.firstIndex(where: {
            $0.tenantID == revocation.tenantID && $0.kind == revocation.kind && $0.value == revocation.value
        }) {
            state.revocations[index].expiresAt = max(state.revocations[index].expiresAt, revocation.expiresAt)
        } else {
            state.revocations.append(revocation)
        }
    }

    public func revocations(liveAt now: Date) async throws -> [Revocation] {
        state.withLock { $0.revocations.filter { now < $0.expiresAt } }
    }

    public func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool {
        state.withLock { state in
            state.revocations.contains { r in
                r.tenantID == tenantID && now < r.expiresAt && ((r.kind == .session && r.value == sid) || (r.kind == .token && r.value == jti))
            }
        }
    }

    // MARK: events

    public func appendEvents(_ events: [AuditEvent], batch: String) async throws {
        state.withLock { state in
            for var event in events where state.tenants[event.tenantID] != nil {
                event.id = state.nextEventID
                state.nextEventID += 1
                state.events.append(event)
            }
        }
    }

    public func events(tenantID: String, kind: AuditEvent.Kind?, after: Int64, limit: Int) async throws -> [AuditEvent] {
        state.withLock { state in
            Array(state.events.lazy.filter { $0.tenantID == tenantID && $0.id > after && (kind == nil || $0.kind == kind) }.prefix(limit))
        }
    }

    // MARK: purge

    public func purgeExpired(now: Date, batch: Int) async throws -> Int {
        state.withLock { state in
            let expired = state.sessions.filter { !$0.value.isLive(at: now) && $0.value.accessExpiresAt <= now }.keys.prefix(batch)
            var removed = 0
            for key in expired {
                guard let session = state.sessions.removeValue(forKey: key) else { continue }
                let tokensBefore = state.tokens.count
                state.tokens = state.tokens.filter { !($0.value.tenantID == session.tenantID && $0.value.sessionID == session.id) }
                removed += 1 + tokensBefore - state.tokens.count
            }
            let before = state.revocations.count + state.codes.count + state.browserSessions.count
            state.revocations.removeAll { $0.expiresAt <= now }
            state.codes = state.codes.filter { $0.value.expiresAt > now.addingTimeInterval(-86_400) }
            state.browserSessions = state.browserSessions.filter { $0.value.expiresAt > now }
            return removed + before - state.revocations.count - state.codes.count - state.browserSessions.count
        }
    }
}
