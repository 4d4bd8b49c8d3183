import Foundation
import JWTKit

/// The claims of an OpenID Connect ID token, issued when `openid` is granted.
public struct IDTokenClaims: SignableClaims, Equatable {
    public var iss: String
    public var sub: String
    public var aud: String
    public var exp: Int64
    public var iat: Int64
    public var authTime: Int64
    public var acr: String
    public var amr: [String]
    public var sid: String
    public var azp: String
    public var preferredUsername: String?
    public var email: String?
    public var nonce: String?
    public var atHash: String?

    public init(iss: String, sub: String, aud: String, exp: Int64, iat: Int64, authTime: Int64, acr: String, amr: [String],
                sid: String, azp: String, preferredUsername: String?, email: String?, nonce: String? = nil, atHash: String? = nil) {
        self.nonce = nonce
        self.atHash = atHash
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.exp = exp
        self.iat = iat
        self.authTime = authTime
        self.acr = acr
        self.amr = amr
        self.sid = sid
        self.azp = azp
        self.preferredUsername = preferredUsername
        self.email = email
    }

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, acr, amr, sid, azp, email, nonce
        case authTime = "auth_time"
        case preferredUsername = "preferred_username"
        case atHash = "at_hash"
    }

    public func write(to json: inout JSONWriter) {
        json.field("iss", iss)
        json.field("sub", sub)
        json.field("aud", aud)
        json.field("exp", exp)
        json.field("iat", iat)
        json.field("auth_time", authTime)
        json.field("acr", acr)
        json.field("amr", amr)
        json.field("sid", sid)
        json.field("azp", azp)
        json.field("preferred_username", preferredUsername)
        json.field("email", email)
        json.field("nonce", nonce)
        json.field("at_hash", atHash)
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
