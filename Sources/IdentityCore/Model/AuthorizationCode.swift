import Foundation

/// A code of the authorization code flow (RFC 6749 §4.1), as stored: never the code itself, only its
/// SHA-256. Single-use and short-lived (60 s), and bound to everything the code exchange must match.
public struct AuthorizationCode: Sendable, Equatable {
    public var tenantID: String
    /// SHA-256 (hex) of the code.
    public var codeHash: String
    public var clientID: String
    /// The redirect URI the code was sent to; the exchange must name the same.
    public var redirectURI: String
    /// The PKCE challenge (S256).
    public var codeChallenge: String
    public var nonce: String?
    /// The scopes granted (consented).
    public var scopes: [String]
    public var userID: String
    public var acr: AuthenticationLevel
    public var amr: [String]
    public var authTime: Date
    /// The DPoP key the code is bound to (`dpop_jkt` on authorize): the exchange must prove it.
    public var dpopJKT: String?
    /// The browser session (SSO) the code was issued in: RP-initiated logout ends what it started.
    public var browserSessionID: String?
    public var createdAt: Date
    public var expiresAt: Date
    /// Set when the code is exchanged; a second presentation finds it set.
    public var consumedAt: Date?
    /// The session the exchange started, revoked if the code is presented again.
    public var sessionID: String?

    public init(tenantID: String, codeHash: String, clientID: String, redirectURI: String, codeChallenge: String, nonce: String?,
                scopes: [String], userID: String, acr: AuthenticationLevel, amr: [String], authTime: Date, dpopJKT: String?,
                browserSessionID: String?, createdAt: Date, expiresAt: Date, consumedAt: Date? = nil, sessionID: String? = nil) {
        self.tenantID = tenantID
        self.codeHash = codeHash
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.codeChallenge = codeChallenge
        self.nonce = nonce
        self.scopes = scopes
        self.userID = userID
        self.acr = acr
        self.amr = amr
        self.authTime = authTime
        self.dpopJKT = dpopJKT
        self.browserSessionID = browserSessionID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.consumedAt = consumedAt
        self.sessionID = sessionID
    }
}
