import Foundation
import JWTKit

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
