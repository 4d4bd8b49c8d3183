import Foundation
@testable import SQLiteStore
import Testing

/// The SQLite store reads its own lists without `JSONDecoder`; whatever it reads must be what `JSONDecoder`
/// reads, and anything it does not understand goes to `JSONDecoder`.
@Suite struct JSONListTests {
    @Test func listsReadAsJSONDecoderReadsThem() throws {
        let lists: [[String]] = [[], [""], ["openid"], ["openid", "api", "offline_access"], ["a b", "é🔑", ",", "]", "["],
                                 ["quote \"", "back\\slash"], ["", ""]]
        for list in lists {
            let text = JSONList.encode(list)
            #expect(JSONList.decode(text) == list, "\(text)")
        }
        for text in ["[\"a\", \"b\"]", " [\"a\"]", "[\"a\",]", "[\"a\"", "[1]", "[\"a\"\"b\"]", "[\"a\",\"b\"", "x", "[\"]"] {
            let expected = (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
            #expect(JSONList.decode(text) == expected, "\(text)")
        }
        #expect(JSONList.decodePlain("[\"a\", \"b\"]") == nil)
        #expect(JSONList.decodePlain("[\"openid\",\"api\"]") == ["openid", "api"])
        #expect(JSONList.decode(nil) == [])
    }
}
