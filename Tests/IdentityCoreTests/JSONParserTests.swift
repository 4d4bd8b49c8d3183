import Foundation
import Testing
@testable import IdentityCore

/// The strict JSON parser behind DPoP proofs and admin bodies: what RFC 8259 allows parses to what
/// Foundation's decoder makes of it; what it does not allow, duplicate names and deep nesting are refused;
/// no bytes crash it.
@Suite struct JSONParserTests {
    static let valid = [
        #"{}"#, #"[]"#, #" {"a" : [1, -2.5e3, 0, 0.5, true, false, null, "x"]} "#, #""é\u00e9\ud83d\ude00\n\"\\\/""#,
        #"{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"abc","y":"def"}}"#, "123", #""""#, #"[[[]]]"#,
        #"{"n": 1E+2, "m": -0, "o": 1e-7}"#,
    ]

    @Test(arguments: valid)
    func whatRFC8259AllowsParsesAsFoundationParsesIt(text: String) throws {
        let expected = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(try JSONParser.parse(Array(text.utf8)) == expected)
    }

    static let invalid = [
        "", " ", "{", "}", "[1,]", #"{"a":1,}"#, "01", "1.", ".5", "-", "1e", "+1", "NaN", "Infinity", "tru", "nul", #"{"a" 1}"#,
        #"{a:1}"#, #"'a'"#, #""\x""#, #""\u12""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, "\"a\u{01}\"", "\"unterminated",
        "[1] [2]", "// c\n1", #"{"a":1,"a":2}"#, "1e999",
    ]

    @Test(arguments: invalid)
    func whatItDoesNotAllowIsRefused(text: String) {
        #expect(throws: JSONParser.Invalid.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func invalidUTF8AndDeepNestingAreRefused() {
        #expect(throws: JSONParser.Invalid.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParser.Invalid.self) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }  // an encoded surrogate
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.Invalid.self) { try JSONParser.parse(Array(deep.utf8)) }
        let allowed = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect((try? JSONParser.parse(Array(allowed.utf8))) != nil)
    }

    @Test func noBytesCrashIt() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]",:"\u0123456789.eE+-tfnrul aé"#.utf8) + [0, 0x80, 0xFF]
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...24, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            _ = try? JSONParser.parse(bytes)
        }
    }
}
