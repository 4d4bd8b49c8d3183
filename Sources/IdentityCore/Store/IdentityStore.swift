import Foundation

/// Everything identityd persists, on one backend.
public protocol IdentityStore: TenantStore, KeyStore, ClientStore, UserStore, SessionStore, RevocationStore, EventStore, SettingsStore,
    AuthorizationCodeStore, BrowserSessionStore, ConsentStore, WebhookOutboxStore {
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
