import Foundation

/// Tenants, with their policy and the hash of their admin key.
public protocol TenantStore: Sendable {
    /// Inserts `tenant` with its admin key hash and first signing keys, all or nothing.
    /// Throws `StoreError.conflict` when the id is taken.
    func createTenant(_ tenant: Tenant, adminKeyHash: String, keys: [SigningKey]) async throws
    /// The tenant, or nil.
    func tenant(id: String) async throws -> Tenant?
    /// Every tenant, ordered by id.
    func tenants() async throws -> [Tenant]
    /// Replaces name, status, policy and `updatedAt`. Returns false when the tenant does not exist.
    func updateTenant(_ tenant: Tenant) async throws -> Bool
    /// Deletes the tenant and everything stored under it. Returns false when it did not exist.
    func deleteTenant(id: String) async throws -> Bool
    /// The id of the tenant whose admin key hashes to `hash`, or nil.
    func tenantID(adminKeyHash hash: String) async throws -> String?
}

/// Signing keys.
public protocol KeyStore: Sendable {
    /// Every key of the tenant, newest first.
    func signingKeys(tenantID: String) async throws -> [SigningKey]
    /// Inserts or replaces (by `kid`) every key given, in one transaction.
    func saveSigningKeys(_ keys: [SigningKey]) async throws
}

/// OAuth clients.
public protocol ClientStore: Sendable {
    /// Throws `StoreError.conflict` when the tenant already has a client with that id.
    func createClient(_ client: Client) async throws
    func client(tenantID: String, id: String) async throws -> Client?
    /// The tenant's clients ordered by id.
    func clients(tenantID: String) async throws -> [Client]
    /// Returns false when the client does not exist.
    func updateClient(_ client: Client) async throws -> Bool
    /// Deletes the client and revokes nothing by itself (the caller revokes its sessions first).
    func deleteClient(tenantID: String, id: String) async throws -> Bool
}

/// End users.
public protocol UserStore: Sendable {
    /// Throws `StoreError.conflict` when the username is taken in the tenant.
    func createUser(_ user: User) async throws
    func user(tenantID: String, id: String) async throws -> User?
    func user(tenantID: String, username: String) async throws -> User?
    /// The tenant's users ordered by username.
    func users(tenantID: String) async throws -> [User]
    /// Returns false when the user does not exist; throws `StoreError.conflict` on a taken username.
    func updateUser(_ user: User) async throws -> Bool
    func deleteUser(tenantID: String, id: String) async throws -> Bool
}

/// The write a refresh grant makes, decided by `RefreshRotation` and applied atomically by the store.
public struct RefreshWrite: Sendable, Equatable {
    public var tenantID: String
    /// The presented token.
    public var presentedKey: String
    /// The state the presented token must be in for the write to apply (the compare of compare-and-set).
    public var expectedState: RefreshTokenRecord.State
    /// The state it is left in (`rotated` on a rotation; unchanged otherwise).
    public var newState: RefreshTokenRecord.State
    /// Set as `rotatedAt` when the state changes to `rotated`.
    public var now: Date
    /// Inserted when the write applies; nil when rotation is off.
    public var successor: RefreshTokenRecord?
    public var sessionID: String
    /// The session's new `lastUsedAt`, `idleExpiresAt`, and (raised to at least this) `accessExpiresAt`.
    public var lastUsedAt: Date
    public var idleExpiresAt: Date
    public var accessExpiresAt: Date

    public init(tenantID: String, presentedKey: String, expectedState: RefreshTokenRecord.State, newState: RefreshTokenRecord.State,
                now: Date, successor: RefreshTokenRecord?, sessionID: String, lastUsedAt: Date, idleExpiresAt: Date, accessExpiresAt: Date) {
        self.tenantID = tenantID
        self.presentedKey = presentedKey
        self.expectedState = expectedState
        self.newState = newState
        self.now = now
        self.successor = successor
        self.sessionID = sessionID
        self.lastUsedAt = lastUsedAt
        self.idleExpiresAt = idleExpiresAt
        self.accessExpiresAt = accessExpiresAt
    }
}

/// What became of a `RefreshWrite`.
public enum RefreshWriteResult: Sendable, Equatable {
    /// Everything was written.
    case applied
    /// The presented token was no longer in `expectedState` (another request won); nothing was written.
    case tokenChanged
    /// The session was revoked or expired (`idleExpiresAt`/`absoluteExpiresAt` ≤ `now`); nothing was written.
    case sessionNotLive
}

/// Sessions and their refresh-token families. The rotation rules live in `RefreshRotation`; a store only
/// reads and applies compare-and-set writes.
public protocol SessionStore: Sendable {
    /// Inserts a session and the first refresh token of its family (if any) atomically.
    func createSession(_ session: Session, firstToken: RefreshTokenRecord?) async throws
    func session(tenantID: String, id: String) async throws -> Session?
    /// The user's sessions that are `active` and not past their expiry at `now`, newest first.
    func liveSessions(tenantID: String, userID: String, now: Date) async throws -> [Session]
    /// The refresh token with that lookup key in that tenant, with its session; nil when unknown.
    func refreshToken(tenantID: String, lookupKey: String) async throws -> (RefreshTokenRecord, Session)?
    /// Applies `write` in one transaction (or one statement): if the presented token is in `expectedState`
    /// and the session is live at `write.now`, sets the token's state, slides the session and inserts the
    /// successor. Two concurrent calls expecting `active` for the same token: exactly one gets `.applied`.
    func applyRefresh(_ write: RefreshWrite) async throws -> RefreshWriteResult
    /// Marks the sessions revoked (those not already revoked) and every refresh token of their families
    /// `revoked`, and records a `Revocation` for each sid until its `accessExpiresAt`, all in one transaction.
    /// Returns the sessions that this call revoked.
    func revokeSessions(tenantID: String, ids: [String], at now: Date) async throws -> [Session]
    /// `revokeSessions` for every session of a user (active or not yet expired). Returns those revoked.
    func revokeUserSessions(tenantID: String, userID: String, at now: Date) async throws -> [Session]
    /// Same for every session of a client.
    func revokeClientSessions(tenantID: String, clientID: String, at now: Date) async throws -> [Session]
}

/// The persistent revocation list (sids and jtis); the revocation cache is loaded from it and falls back to it.
public protocol RevocationStore: Sendable {
    /// Records `revocation`; recording the same kind and value again keeps the later expiry.
    func addRevocation(_ revocation: Revocation) async throws
    /// Every revocation not expired at `now`.
    func revocations(liveAt now: Date) async throws -> [Revocation]
    /// Whether any of the given ids of `tenantID` is revoked and not expired at `now`.
    func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool
}

/// The audit log.
public protocol EventStore: Sendable {
    /// Appends the events in order; ids are assigned by the store and increase. `batch` names the write: a
    /// store whose write can end unconfirmed (a missed deadline, a lost connection, after which it may still
    /// commit) writes a batch once however often it is retried under the same name.
    func appendEvents(_ events: [AuditEvent], batch: String) async throws
    /// The tenant's events with id greater than `after`, of `kind` if given, oldest first, at most `limit`.
    func events(tenantID: String, kind: AuditEvent.Kind?, after: Int64, limit: Int) async throws -> [AuditEvent]
}

extension EventStore {
    /// Appends the events in order, as a batch of their own.
    public func appendEvents(_ events: [AuditEvent]) async throws {
        try await appendEvents(events, batch: UUID().uuidString)
    }
}

/// Everything identityd persists, on one backend.
public protocol IdentityStore: TenantStore, KeyStore, ClientStore, UserStore, SessionStore, RevocationStore, EventStore {
    /// Brings the schema up to date; safe to call on every start.
    func migrate() async throws
    /// Succeeds when the backend answers.
    func ping() async throws
    /// Deletes expired sessions, refresh tokens and revocations (before `now`), and what the store keeps only
    /// for a while (PostgreSQL: the names of audit batches), at most `batch` rows each.
    /// Returns how many rows went.
    func purgeExpired(now: Date, batch: Int) async throws -> Int
    /// Releases connections and files.
    func close() async throws
}
