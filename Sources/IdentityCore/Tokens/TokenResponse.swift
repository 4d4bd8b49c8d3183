import Foundation

/// A successful token response (RFC 6749 §5.1).
public struct TokenResponse: Sendable, Equatable, Encodable {
    public var accessToken: String
    public var tokenType: String
    public var expiresIn: Int
    public var refreshToken: String?
    public var scope: String
    public var idToken: String?
    /// The DPoP nonce to send in `DPoP-Nonce` (not in the body), when the tenant asks for nonces.
    public var dpopNonce: String?

    public init(accessToken: String, tokenType: String, expiresIn: Int, refreshToken: String?, scope: String, idToken: String?) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.refreshToken = refreshToken
        self.scope = scope
        self.idToken = idToken
    }

    /// `DPoP` for a token bound to a key, `Bearer` otherwise (RFC 9449 §5).
    public static func tokenType(_ claims: AccessTokenClaims) -> String { claims.cnf == nil ? "Bearer" : "DPoP" }

    /// The response as compact JSON, written directly (the token endpoint's hot path); the same document as
    /// encoding it with `CodingKeys`, keys sorted.
    public var json: [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("access_token", accessToken)
        writer.field("expires_in", Int64(expiresIn))
        writer.field("id_token", idToken)
        writer.field("refresh_token", refreshToken)
        writer.field("scope", scope)
        writer.field("token_type", tokenType)
        writer.endObject()
        return writer.bytes
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case refreshToken = "refresh_token"
        case scope
        case idToken = "id_token"
    }
}
