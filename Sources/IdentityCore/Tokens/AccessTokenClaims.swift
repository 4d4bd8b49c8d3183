import Foundation
import JWTKit

/// The claims of an RFC 9068 access token (`typ: at+jwt`).
public struct AccessTokenClaims: SignableClaims, Equatable {
    /// RFC 7800 confirmation: the DPoP key's JWK thumbprint.
    public struct Confirmation: Codable, Sendable, Equatable {
        public var jkt: String
        public init(jkt: String) { self.jkt = jkt }
    }

    public var iss: String
    /// The user id, or the client id for `client_credentials`.
    public var sub: String
    public var aud: String
    public var exp: Int64
    public var iat: Int64
    public var jti: String
    public var clientID: String
    public var scope: String
    public var sid: String?
    public var authTime: Int64?
    public var acr: String?
    public var amr: [String]?
    public var cnf: Confirmation?

    public init(iss: String, sub: String, aud: String, exp: Int64, iat: Int64, jti: String, clientID: String, scope: String,
                sid: String? = nil, authTime: Int64? = nil, acr: String? = nil, amr: [String]? = nil, cnf: Confirmation? = nil) {
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.exp = exp
        self.iat = iat
        self.jti = jti
        self.clientID = clientID
        self.scope = scope
        self.sid = sid
        self.authTime = authTime
        self.acr = acr
        self.amr = amr
        self.cnf = cnf
    }

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, jti, scope, sid, acr, amr, cnf
        case clientID = "client_id"
        case authTime = "auth_time"
    }

    public func write(to json: inout JSONWriter) {
        json.field("iss", iss)
        json.field("sub", sub)
        json.field("aud", aud)
        json.field("exp", exp)
        json.field("iat", iat)
        json.field("jti", jti)
        json.field("client_id", clientID)
        json.field("scope", scope)
        json.field("sid", sid)
        json.field("auth_time", authTime)
        json.field("acr", acr)
        json.field("amr", amr)
        if let cnf {
            json.beginObject("cnf")
            json.field("jkt", cnf.jkt)
            json.endObject()
        }
    }

    /// Expiry, issuer and revocation are checked by `TokenVerifier` against the injected clock.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
