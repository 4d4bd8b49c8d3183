import Foundation
import JWTKit

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
