import Foundation
import Hummingbird
import IdentityCore

/// Strict `application/x-www-form-urlencoded` parsing for the OAuth endpoints (RFC 6749 §3.2): every
/// parameter at most once, valid percent-encoding, valid UTF-8, no control characters (C0 and DEL: no
/// parameter of OAuth carries one, and a NUL reaching a store or a log is an attack).
enum FormBody {
    /// The largest form the OAuth endpoints read.
    static let limit = 64 * 1024

    /// The request's form parameters; `invalid_request` on a wrong content type, a repeated parameter or bad
    /// encoding, and `BodyTooLarge` past `limit`.
    static func parameters(of request: Request) async throws -> [String: String] {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw OAuthError.invalidRequest(description: "the body must be application/x-www-form-urlencoded")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw BodyTooLarge()
        }
        return try parse(Array(buffer.readableBytesView))
    }

    static func parse(_ bytes: [UInt8]) throws -> [String: String] {
        var result: [String: String] = [:]
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : []) else {
                throw OAuthError.invalidRequest(description: "the form is not valid percent-encoded UTF-8 without control characters")
            }
            guard !name.isEmpty else { continue }
            guard result[name] == nil else { throw OAuthError.invalidRequest(description: "parameter \(safeName(name)) is repeated") }
            result[name] = value
        }
        return result
    }

    /// Percent-decodes one component (`+` is a space); nil on a bad escape, invalid UTF-8 or a control character.
    static func decode(_ component: ArraySlice<UInt8>) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(component.count)
        var index = component.startIndex
        while index < component.endIndex {
            let byte = component[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < component.endIndex, let high = hex(component[index + 1]), let low = hex(component[index + 2]) else { return nil }
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? 0x20 : byte)
                index += 1
            }
        }
        guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A parameter name fit to echo in an error: short, and only if it is plain.
    static func safeName(_ name: String) -> String {
        name.count <= 40 && name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) ? name : "(unnamed)"
    }

    /// The client credentials of a token-endpoint request: HTTP Basic (`client_secret_basic`) or the form's
    /// `client_id`/`client_secret` (`client_secret_post`), or `client_id` alone (a public client). Using two
    /// methods at once is `invalid_request`; a malformed Basic header is `invalid_client`.
    static func clientCredentials(_ request: Request, form: [String: String]) throws -> ClientCredentials? {
        if let authorization = request.headers[.authorization], let encoded = basicCredentials(authorization) {
            guard form["client_secret"] == nil else {
                throw OAuthError.invalidRequest(description: "use one client authentication method, not two")
            }
            guard let decoded = base64(encoded), let colon = decoded.firstIndex(of: UInt8(ascii: ":")),
                  let id = decode(decoded[..<colon]), let secret = decode(decoded[(colon + 1)...]), !id.isEmpty else {
                throw OAuthError.invalidClient(reason: "malformed_basic_header")
            }
            if let formID = form["client_id"], formID != id {
                throw OAuthError.invalidRequest(description: "client_id differs from the authenticated client")
            }
            return ClientCredentials(clientID: id, secret: secret, method: .basic)
        }
        guard let id = form["client_id"], !id.isEmpty else { return nil }
        if let secret = form["client_secret"] { return ClientCredentials(clientID: id, secret: secret, method: .post) }
        return ClientCredentials(clientID: id, secret: nil, method: .none)
    }
}

extension FormBody {
    /// The credentials of a `Basic` authorization (scheme case-insensitive, surrounding spaces ignored); nil
    /// for another scheme. Byte-level: Foundation's lowercasing and trimming showed in the token endpoint's profile.
    static func basicCredentials(_ authorization: String) -> ArraySlice<UInt8>? {
        let bytes = Array(authorization.utf8)
        guard bytes.count >= 6, bytes[..<6].map({ $0 | 0x20 }) == Array("basic ".utf8) else { return nil }
        var credentials = bytes[6...]
        while let first = credentials.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { credentials = credentials.dropFirst() }
        while let last = credentials.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { credentials = credentials.dropLast() }
        return credentials
    }

    /// Standard base64 (RFC 4648 §4, padding optional) as bytes; nil when it is not.
    static func base64(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var body = text
        while body.last == UInt8(ascii: "=") { body = body.dropLast() }
        guard text.count - body.count <= 2, !body.contains(UInt8(ascii: "-")), !body.contains(UInt8(ascii: "_")) else { return nil }
        let urlSafe = body.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: "-") : $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0 }
        return Base64URL.decode(String(decoding: urlSafe, as: UTF8.self)).map { ArraySlice($0) }
    }
}

