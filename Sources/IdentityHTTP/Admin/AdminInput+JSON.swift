import Foundation
import IdentityCore

// The admin API's JSON bodies decoded into typed inputs: unknown fields, missing required fields and values of
// the wrong JSON type are refused here, naming the field; the values themselves are the core's to judge.
// Public so that declarative tenant files (YAML read as JSON) go through the same decoding.

extension AdminInput.NewTenant {
    public init(json: JSONValue) throws {
        let body = try JSONObjectReader(json)
        try body.rejectUnknown(["id", "name", "policy"])
        self.init(id: try body.requiredString("id"), name: try body.requiredString("name"), policy: body.fields["policy"])
    }
}

extension AdminInput.TenantUpdate {
    public init(json: JSONValue) throws {
        let body = try JSONObjectReader(json)
        try body.rejectUnknown(["name", "status"])
        self.init(name: try body.string("name"), status: try body.string("status"))
    }
}

extension AdminInput.NewClient {
    public init(json: JSONValue) throws {
        let body = try JSONObjectReader(json)
        try body.rejectUnknown(["client_id", "name", "type", "grant_types", "redirect_uris", "post_logout_redirect_uris", "scopes",
                                "require_consent"])
        self.init(clientID: try body.string("client_id"), name: try body.requiredString("name"), type: try body.requiredString("type"),
                  grantTypes: try body.strings("grant_types"), redirectURIs: try body.strings("redirect_uris"),
                  postLogoutRedirectURIs: try body.strings("post_logout_redirect_uris"), scopes: try body.strings("scopes"),
                  requireConsent: try body.bool("require_consent"))
    }
}

extension AdminInput.ClientUpdate {
    public init(json: JSONValue) throws {
        let body = try JSONObjectReader(json)
        try body.rejectUnknown(["name", "grant_types", "redirect_uris", "post_logout_redirect_uris", "scopes", "require_consent", "rotate_secret"])
        self.init(name: try body.string("name"), grantTypes: try body.strings("grant_types"), redirectURIs: try body.strings("redirect_uris"),
                  postLogoutRedirectURIs: try body.strings("post_logout_redirect_uris"), scopes: try body.strings("scopes"),
                  requireConsent: try body.bool("require_consent"), rotateSecret: try body.bool("rotate_secret"))
    }
}

extension AdminInput.NewUser {
    public init(json: JSONValue) throws {
        let body = try JSONObjectReader(json)
        try body.rejectUnknown(["username", "password", "email"])
        self.init(username: try body.requiredString("username"), password: try body.requiredString("password"), email: try body.string("email"))
    }
}

extension AdminInput.UserUpdate {
    public init(json: JSONValue) throws {
        let body = try JSONObjectReader(json)
        try body.rejectUnknown(["username", "password", "email"])
        self.init(username: try body.string("username"), email: body.has("email") ? .some(try body.string("email")) : nil,
                  password: try body.string("password"))
    }
}

extension AdminInput.KeyRotation {
    /// From an optional body (`nil`: no body).
    public init(json: JSONValue?) throws {
        guard let json else {
            self.init()
            return
        }
        let body = try JSONObjectReader(json)
        try body.rejectUnknown(["alg"])
        self.init(alg: try body.string("alg"))
    }
}

extension AdminInput.EventQuery {
    /// From the query string's `type`, `after` and `limit`.
    public init(type: String?, after: String?, limit: String?) throws {
        var kind: AuditEvent.Kind?
        if let type, !type.isEmpty {
            guard let value = AuditEvent.Kind(rawValue: type) else { throw AdminError.invalidField("type", "unknown event type") }
            kind = value
        }
        let afterID = try after.map { text -> Int64 in
            guard let value = Int64(text), value >= 0 else { throw AdminError.invalidField("after", "must be a non-negative integer") }
            return value
        } ?? 0
        let count = try limit.map { text -> Int in
            guard let value = Int(text), (1...1000).contains(value) else { throw AdminError.invalidField("limit", "must be from 1 to 1000") }
            return value
        } ?? 100
        self.init(kind: kind, after: afterID, limit: count)
    }
}
