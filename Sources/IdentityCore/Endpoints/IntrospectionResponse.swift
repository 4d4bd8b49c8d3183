import Foundation

/// An RFC 7662 introspection answer; `active: false` carries nothing else.
public struct IntrospectionResponse: Sendable, Equatable, Encodable {
    public var active: Bool
    public var scope: String?
    public var clientID: String?
    public var username: String?
    public var tokenType: String?
    public var exp: Int64?
    public var iat: Int64?
    public var sub: String?
    public var aud: String?
    public var iss: String?
    public var jti: String?
    public var sid: String?
    public var acr: String?
    public var authTime: Int64?
    /// RFC 9449 §6.2: the DPoP key a bound token (or a bound session's refresh token) is tied to.
    public var cnf: AccessTokenClaims.Confirmation?

    public static let inactive = IntrospectionResponse(active: false)

    enum CodingKeys: String, CodingKey {
        case active, scope, username, exp, iat, sub, aud, iss, jti, sid, acr, cnf
        case clientID = "client_id"
        case tokenType = "token_type"
        case authTime = "auth_time"
    }
}
