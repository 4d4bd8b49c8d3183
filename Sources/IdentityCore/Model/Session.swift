import Foundation

/// One authentication of a user on a client, and the family of refresh tokens it begets.
public struct Session: Sendable, Equatable {
    public enum Status: String, Sendable, Codable { case active, revoked }

    public var tenantID: String
    /// The `sid` claim.
    public var id: String
    public var userID: String
    public var clientID: String
    /// The scopes granted at authentication; refreshes may narrow, never widen them.
    public var scopes: [String]
    public var acr: AuthenticationLevel
    public var amr: [String]
    public var authTime: Date
    public var createdAt: Date
    public var lastUsedAt: Date
    public var idleExpiresAt: Date
    public var absoluteExpiresAt: Date
    /// The latest `exp` of any access token issued in this session: a revocation must outlive it.
    public var accessExpiresAt: Date
    public var status: Status
    public var revokedAt: Date?
    /// JWK SHA-256 thumbprint of the DPoP key the session is bound to.
    public var dpopJKT: String?
    public var ip: String?
    public var userAgent: String?
    /// The browser session (SSO) it was started in, if any: ending that browser session ends this one too.
    public var browserSessionID: String?

    public init(tenantID: String, id: String, userID: String, clientID: String, scopes: [String], acr: AuthenticationLevel,
                amr: [String], authTime: Date, createdAt: Date, lastUsedAt: Date, idleExpiresAt: Date, absoluteExpiresAt: Date,
                accessExpiresAt: Date, status: Status = .active, revokedAt: Date? = nil, dpopJKT: String? = nil,
                ip: String? = nil, userAgent: String? = nil, browserSessionID: String? = nil) {
        self.browserSessionID = browserSessionID
        self.tenantID = tenantID
        self.id = id
        self.userID = userID
        self.clientID = clientID
        self.scopes = scopes
        self.acr = acr
        self.amr = amr
        self.authTime = authTime
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.idleExpiresAt = idleExpiresAt
        self.absoluteExpiresAt = absoluteExpiresAt
        self.accessExpiresAt = accessExpiresAt
        self.status = status
        self.revokedAt = revokedAt
        self.dpopJKT = dpopJKT
        self.ip = ip
        self.userAgent = userAgent
    }

    /// Whether the session is usable at `now`: active, inside its idle window and its absolute cap.
    public func isLive(at now: Date) -> Bool {
        status == .active && now < idleExpiresAt && now < absoluteExpiresAt
    }
}

extension Session {
    /// The revocation-list entry for this session: its sid, until its last access token expires.
    public var revocation: Revocation {
        Revocation(tenantID: tenantID, kind: .session, value: id, expiresAt: accessExpiresAt)
    }
}
