import Foundation

/// A B2B customer: its own issuer, keys, policy, clients and users. Everything stored is keyed by tenant.
public struct Tenant: Sendable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable { case active, suspended }

    /// A slug `[a-z0-9-]{3,40}`, part of the issuer URL.
    public var id: String
    public var name: String
    public var status: Status
    public var policy: TenantPolicy
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, name: String, status: Status = .active, policy: TenantPolicy = .init(), createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.status = status
        self.policy = policy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether `id` is a valid tenant slug.
    public static func isValidID(_ id: String) -> Bool {
        (3...40).contains(id.utf8.count) && id.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }
}

/// An OAuth client of a tenant.
public struct Client: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case confidential, `public` }

    public var tenantID: String
    public var id: String
    public var name: String
    public var kind: Kind
    /// PHC-style scrypt hash of the client secret; nil for public clients.
    public var secretHash: String?
    public var grantTypes: [GrantType]
    public var redirectURIs: [String]
    /// The scopes the client may ask for.
    public var scopes: [String]
    public var createdAt: Date
    public var updatedAt: Date

    public init(tenantID: String, id: String, name: String, kind: Kind, secretHash: String?, grantTypes: [GrantType],
                redirectURIs: [String], scopes: [String], createdAt: Date, updatedAt: Date) {
        self.tenantID = tenantID
        self.id = id
        self.name = name
        self.kind = kind
        self.secretHash = secretHash
        self.grantTypes = grantTypes
        self.redirectURIs = redirectURIs
        self.scopes = scopes
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether a client id is acceptable: 1–100 visible ASCII characters other than `:` (it appears in Basic auth).
    public static func isValidID(_ id: String) -> Bool {
        (1...100).contains(id.utf8.count) && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x3A }
    }
}

/// The grant types of the token endpoint.
public enum GrantType: String, Sendable, Codable, CaseIterable {
    case password
    case clientCredentials = "client_credentials"
    case refreshToken = "refresh_token"
    case authorizationCode = "authorization_code"
}

/// An end user of a tenant.
public struct User: Sendable, Equatable {
    public var tenantID: String
    public var id: String
    /// Unique within the tenant, compared exactly.
    public var username: String
    public var email: String?
    /// PHC-style scrypt hash.
    public var passwordHash: String
    /// The TOTP secret sealed under the master key, once enrolled.
    public var sealedTOTPSecret: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(tenantID: String, id: String, username: String, email: String?, passwordHash: String,
                sealedTOTPSecret: String?, createdAt: Date, updatedAt: Date) {
        self.tenantID = tenantID
        self.id = id
        self.username = username
        self.email = email
        self.passwordHash = passwordHash
        self.sealedTOTPSecret = sealedTOTPSecret
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Space-separated OAuth scopes (RFC 6749 §3.3).
public enum Scope {
    /// Splits a `scope` parameter; nil when a token has characters the RFC forbids.
    public static func parse(_ text: String) -> [String]? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard parts.allSatisfy(isValidToken) else { return nil }
        return unique(parts)
    }

    /// `scopes` without repeats, in first-seen order.
    public static func unique(_ scopes: [String]) -> [String] {
        var seen = Set<String>()
        return scopes.filter { seen.insert($0).inserted }
    }

    /// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`, at most 200 bytes.
    public static func isValidToken(_ token: String) -> Bool {
        !token.isEmpty && token.utf8.count <= 200
            && token.utf8.allSatisfy { $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) }
    }

    public static func join(_ scopes: [String]) -> String { scopes.joined(separator: " ") }
}
