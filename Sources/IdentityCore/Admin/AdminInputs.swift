import Foundation

/// The admin API's request bodies and queries, decoded by the HTTP layer (or a tenant file) into these
/// types; `Administration` validates their values, naming the bad field.
public enum AdminInput {
    /// `POST /tenants`.
    public struct NewTenant: Sendable, Equatable {
        public var id: String
        public var name: String
        /// Validated by `TenantPolicy(validating:)`; nil: the defaults.
        public var policy: JSONValue?
        public init(id: String, name: String, policy: JSONValue? = nil) {
            self.id = id
            self.name = name
            self.policy = policy
        }
    }

    /// `PATCH /tenants/{t}`.
    public struct TenantUpdate: Sendable, Equatable {
        public var name: String?
        public var status: String?
        public init(name: String? = nil, status: String? = nil) {
            self.name = name
            self.status = status
        }
    }

    /// `POST /tenants/{t}/clients`.
    public struct NewClient: Sendable, Equatable {
        public var clientID: String?
        public var name: String
        public var type: String
        public var grantTypes: [String]?
        public var redirectURIs: [String]?
        public var postLogoutRedirectURIs: [String]?
        public var scopes: [String]?
        public var requireConsent: Bool?
        public init(clientID: String? = nil, name: String, type: String, grantTypes: [String]? = nil, redirectURIs: [String]? = nil,
                    postLogoutRedirectURIs: [String]? = nil, scopes: [String]? = nil, requireConsent: Bool? = nil) {
            self.clientID = clientID
            self.name = name
            self.type = type
            self.grantTypes = grantTypes
            self.redirectURIs = redirectURIs
            self.postLogoutRedirectURIs = postLogoutRedirectURIs
            self.scopes = scopes
            self.requireConsent = requireConsent
        }
    }

    /// `PATCH /tenants/{t}/clients/{id}`.
    public struct ClientUpdate: Sendable, Equatable {
        public var name: String?
        public var grantTypes: [String]?
        public var redirectURIs: [String]?
        public var postLogoutRedirectURIs: [String]?
        public var scopes: [String]?
        public var requireConsent: Bool?
        public var rotateSecret: Bool?
        public init(name: String? = nil, grantTypes: [String]? = nil, redirectURIs: [String]? = nil, postLogoutRedirectURIs: [String]? = nil,
                    scopes: [String]? = nil, requireConsent: Bool? = nil, rotateSecret: Bool? = nil) {
            self.name = name
            self.grantTypes = grantTypes
            self.redirectURIs = redirectURIs
            self.postLogoutRedirectURIs = postLogoutRedirectURIs
            self.scopes = scopes
            self.requireConsent = requireConsent
            self.rotateSecret = rotateSecret
        }
    }

    /// `POST /tenants/{t}/users`.
    public struct NewUser: Sendable, Equatable {
        public var username: String
        public var password: String
        public var email: String?
        public init(username: String, password: String, email: String? = nil) {
            self.username = username
            self.password = password
            self.email = email
        }
    }

    /// `PATCH /tenants/{t}/users/{id}`. `email`: nil leaves it, `.some(nil)` (JSON `null`) removes it.
    public struct UserUpdate: Sendable, Equatable {
        public var username: String?
        public var email: String??
        public var password: String?
        public init(username: String? = nil, email: String?? = nil, password: String? = nil) {
            self.username = username
            self.email = email
            self.password = password
        }
    }

    /// `POST /tenants/{t}/keys/rotate`.
    public struct KeyRotation: Sendable, Equatable {
        public var alg: String?
        public init(alg: String? = nil) { self.alg = alg }
    }

    /// `GET /tenants/{t}/events?type=&after=&limit=`.
    public struct EventQuery: Sendable, Equatable {
        public var kind: AuditEvent.Kind?
        public var after: Int64
        public var limit: Int
        public init(kind: AuditEvent.Kind? = nil, after: Int64 = 0, limit: Int = 100) {
            self.kind = kind
            self.after = after
            self.limit = limit
        }
    }
}
