import Foundation
import HTTPTypes

extension HTTPFields {
    /// The token of an `Authorization: Bearer …` header (scheme case-insensitive, RFC 6750 §2.1), or nil.
    var bearerToken: String? {
        guard let authorization = self[.authorization], authorization.utf8.count > 7,
              authorization.utf8.prefix(7).map({ $0 | 0x20 }) == Array("bearer ".utf8) else { return nil }
        let token = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
