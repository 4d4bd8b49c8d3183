import Foundation
import IdentityCore

extension MemoryStore {
    // MARK: authorization codes

    public func saveCode(_ code: AuthorizationCode) async throws {
        try state.withLock { state in
            let key = Self.key(code.tenantID, code.codeHash)
            guard state.codes[key] == nil else { throw StoreError.conflict("authorization code") }
            state.codes[key] = code
        }
    }

    public func consumeCode(tenantID: String, codeHash: String, now: Date) async throws -> CodeConsumption {
        state.withLock { state in
            let key = Self.key(tenantID, codeHash)
            guard var code = state.codes[key] else { return .unknown }
            if code.consumedAt != nil { return .alreadyConsumed(code) }
            guard now < code.expiresAt else { return .unknown }
            code.consumedAt = now
            state.codes[key] = code
            return .consumed(code)
        }
    }

    public func attachSession(tenantID: String, codeHash: String, sessionID: String) async throws {
        state.withLock { $0.codes[Self.key(tenantID, codeHash)]?.sessionID = sessionID }
    }

    // MARK: browser sessions

    public func createBrowserSession(_ session: BrowserSession) async throws {
        state.withLock { $0.browserSessions[Self.key(session.tenantID, session.id)] = session }
    }

    public func browserSession(tenantID: String, id: String) async throws -> BrowserSession? {
        state.withLock { $0.browserSessions[Self.key(tenantID, id)] }
    }

    public func browserSessions(tenantID: String, userID: String, now: Date) async throws -> [BrowserSession] {
        state.withLock { state in
            state.browserSessions.values.filter { $0.tenantID == tenantID && $0.userID == userID && $0.isLive(at: now) }
                .sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        }
    }

    public func revokeBrowserSessions(tenantID: String, userID: String?, id: String?, at now: Date) async throws -> [String] {
        state.withLock { state in
            var revoked: [String] = []
            for (key, var session) in state.browserSessions where session.tenantID == tenantID && session.status == .active
                && (userID == nil || session.userID == userID) && (id == nil || session.id == id) {
                session.status = .revoked
                state.browserSessions[key] = session
                revoked.append(session.id)
            }
            return revoked.sorted()
        }
    }

    // MARK: consents

    private static func consentKey(_ tenantID: String, _ userID: String, _ clientID: String) -> String {
        key(key(tenantID, userID), clientID)
    }

    public func consent(tenantID: String, userID: String, clientID: String) async throws -> Consent? {
        state.withLock { $0.consents[Self.consentKey(tenantID, userID, clientID)] }
    }

    public func saveConsent(_ consent: Consent) async throws {
        state.withLock { $0.consents[Self.consentKey(consent.tenantID, consent.userID, consent.clientID)] = consent }
    }

    public func consents(tenantID: String, userID: String) async throws -> [Consent] {
        state.withLock { state in
            state.consents.values.filter { $0.tenantID == tenantID && $0.userID == userID }.sorted { $0.clientID < $1.clientID }
        }
    }

    public func revokeConsents(tenantID: String, userID: String, clientID: String?) async throws -> [String] {
        state.withLock { state in
            let gone = state.consents.filter { $0.value.tenantID == tenantID && $0.value.userID == userID && (clientID == nil || $0.value.clientID == clientID) }
            for key in gone.keys { state.consents[key] = nil }
            return gone.values.map(\.clientID).sorted()
        }
    }
}
