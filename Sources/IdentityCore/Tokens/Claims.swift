import Foundation
import JWTKit

/// Claims that identityd signs: written straight to JSON (`JSONEncoder` was 7 % of a refresh grant's CPU),
/// read back with their `Decodable` conformance under the same keys.
public protocol SignableClaims: JWTPayload {
    func write(to json: inout JSONWriter)
}

extension SignableClaims {
    public var json: [UInt8] {
        var writer = JSONWriter(capacity: 384)
        writer.beginObject()
        write(to: &writer)
        writer.endObject()
        return writer.bytes
    }
}

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

/// The claims of a JWT refresh token (`typ: rt+jwt`). Never valid on its signature alone: the store decides.
public struct RefreshTokenClaims: SignableClaims, Equatable {
    public var iss: String
    public var jti: String
    public var sid: String
    public var exp: Int64
    public var iat: Int64
    public var clientID: String

    public init(iss: String, jti: String, sid: String, exp: Int64, iat: Int64, clientID: String) {
        self.iss = iss
        self.jti = jti
        self.sid = sid
        self.exp = exp
        self.iat = iat
        self.clientID = clientID
    }

    enum CodingKeys: String, CodingKey {
        case iss, jti, sid, exp, iat
        case clientID = "client_id"
    }

    public func write(to json: inout JSONWriter) {
        json.field("iss", iss)
        json.field("jti", jti)
        json.field("sid", sid)
        json.field("exp", exp)
        json.field("iat", iat)
        json.field("client_id", clientID)
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

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

    public init(iss: String, sub: String, aud: String, exp: Int64, iat: Int64, authTime: Int64, acr: String, amr: [String],
                sid: String, azp: String, preferredUsername: String?, email: String?) {
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
        case iss, sub, aud, exp, iat, acr, amr, sid, azp, email
        case authTime = "auth_time"
        case preferredUsername = "preferred_username"
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
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The JOSE header fields identityd reads before trusting a token.
public struct JOSEHeader: Decodable, Sendable {
    public var alg: String?
    public var kid: String?
    public var typ: String?

    /// The header of a compact JWS, or nil when `token` is not one.
    public static func of(_ token: String) -> JOSEHeader? {
        guard token.utf8.count < 16_384 else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let bytes = Base64URL.decode(parts[0]) else { return nil }
        return try? JSONDecoder().decode(JOSEHeader.self, from: Data(bytes))
    }
}
