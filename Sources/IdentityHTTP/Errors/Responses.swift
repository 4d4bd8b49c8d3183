import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore

/// The bodies identityd answers with: JSON with `Cache-Control: no-store` (RFC 6749 §5.1) unless said otherwise.
enum Responses {
    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    static let adminEncoder = AdminView.encoder()

    static func body(_ bytes: some Sequence<UInt8>, status: HTTPResponse.Status = .ok, extraHeaders: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store", .pragma: "no-cache"]
        headers.append(contentsOf: extraHeaders)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, encoder: JSONEncoder = jsonEncoder) throws -> Response {
        body(try encoder.encode(value), status: status)
    }

    static func empty(status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.cacheControl: "no-store", .pragma: "no-cache"])
    }
}

extension HTTPField.Name {
    static let pragma = HTTPField.Name("Pragma")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
}

/// A body past the endpoint's limit.
struct BodyTooLarge: Error {}
