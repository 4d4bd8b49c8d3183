import Foundation

/// Users' consents to clients.
public protocol ConsentStore: Sendable {
    /// The user's consent to the client, or nil.
    func consent(tenantID: String, userID: String, clientID: String) async throws -> Consent?
    /// Stores the consent, replacing the user's earlier one for that client.
    func saveConsent(_ consent: Consent) async throws
    /// The user's consents, by client id.
    func consents(tenantID: String, userID: String) async throws -> [Consent]
    /// Forgets the user's consent to the client (nil: to every client); returns the client ids forgotten.
    func revokeConsents(tenantID: String, userID: String, clientID: String?) async throws -> [String]
}
