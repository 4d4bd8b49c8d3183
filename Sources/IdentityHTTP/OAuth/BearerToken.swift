import Foundation
import HTTPTypes
import IdentityCore

extension HTTPFields {
    /// The token of an `Authorization: Bearer …` header (scheme case-insensitive, RFC 6750 §2.1), or nil.
    var bearerToken: String? {
        if case .bearer(let token)? = accessToken { return token }
        return nil
    }

    /// The access token of an `Authorization` header and the scheme it came with: `Bearer` (RFC 6750) or
    /// `DPoP` (RFC 9449 §7.1), either case-insensitive; nil for none or another scheme.
    var accessToken: UserInfoEndpoint.Presentation? {
        guard let authorization = self[.authorization], let space = authorization.firstIndex(of: " ") else { return nil }
        let token = authorization[space...].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { return nil }
        switch authorization[..<space].lowercased() {
        case "bearer": return .bearer(token)
        case "dpop": return .dpop(token)
        default: return nil
        }
    }
}

extension HTTPField.Name {
    static let dpop = HTTPField.Name("DPoP")!
    static let dpopNonce = HTTPField.Name("DPoP-Nonce")!
}
