import Foundation

/// Browser sessions (single sign-on).
public protocol BrowserSessionStore: Sendable {
    /// Stores a new browser session.
    func createBrowserSession(_ session: BrowserSession) async throws
    /// The browser session with that id in that tenant, whatever its state, or nil.
    func browserSession(tenantID: String, id: String) async throws -> BrowserSession?
    /// The user's live browser sessions at `now`, newest first.
    func browserSessions(tenantID: String, userID: String, now: Date) async throws -> [BrowserSession]
    /// Marks the browser sessions revoked (those of `userID`, or the one `id`); returns the ids revoked by
    /// this call.
    func revokeBrowserSessions(tenantID: String, userID: String?, id: String?, at now: Date) async throws -> [String]
}
