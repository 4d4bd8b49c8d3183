import Foundation
import IdentityCore
@testable import IdentityHTTP
import Testing

/// `application/x-www-form-urlencoded` as the OAuth endpoints read it (RFC 6749 §3.2), and HTTP Basic client
/// credentials (RFC 6749 §2.3.1).
@Suite struct FormBodyTests {
    func parse(_ text: String) throws -> [String: String] { try FormBody.parse(Array(text.utf8)) }

    @Test func percentEscapesAndPlusSignsAreDecoded() throws {
        #expect(try parse("a=b%20c+d&e=%E2%9C%93&empty=&=ignored") == ["a": "b c d", "e": "✓", "empty": ""])
    }

    @Test(arguments: ["a=1&a=2", "a=%G1", "a=%2", "a=%FF%FE", "%ZZ=1"])
    func aMalformedFormIsInvalidRequest(form: String) {
        #expect(throws: OAuthError.self) { try parse(form) }
    }

    @Test func basicCredentialsAreFormDecodedAndTheSchemeIsCaseInsensitive() throws {
        let encoded = Data("my%20app:s%3Acret".utf8).base64EncodedString()
        let bytes = try #require(FormBody.basicCredentials("bAsIc   \(encoded) "))
        #expect(String(decoding: bytes, as: UTF8.self) == encoded)
        #expect(FormBody.basicCredentials("Bearer \(encoded)") == nil)
        #expect(FormBody.base64(ArraySlice("!!!".utf8)) == nil)
    }
}
