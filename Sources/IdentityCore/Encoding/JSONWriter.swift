/// Writes a compact JSON object field by field, for the few documents on the hot path (token responses,
/// audit batches) where Foundation's `JSONEncoder` was a measurable share of the CPU. Keys are written in the
/// order given; strings are escaped as RFC 8259 requires; nil values are left out (or written as null).
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = []
    /// Whether NUL is written as U+FFFD instead of `\u0000` (which PostgreSQL's `jsonb` refuses).
    private let replacingNUL: Bool

    public init(capacity: Int = 512, replacingNUL: Bool = false) {
        bytes.reserveCapacity(capacity)
        self.replacingNUL = replacingNUL
    }

    public mutating func beginObject() { openContainer(UInt8(ascii: "{")) }
    public mutating func endObject() { closeContainer(UInt8(ascii: "}")) }
    public mutating func beginArray() { openContainer(UInt8(ascii: "[")) }
    public mutating func endArray() { closeContainer(UInt8(ascii: "]")) }

    /// `"key":"value"`; left out when `value` is nil, unless `null` is asked for.
    public mutating func field(_ key: String, _ value: String?, null: Bool = false) {
        guard let value else {
            if null { name(key); bytes.append(contentsOf: "null".utf8) }
            return
        }
        name(key)
        string(value)
    }

    /// `"key":number`; left out when `value` is nil.
    public mutating func field(_ key: String, _ value: Int64?) {
        guard let value else { return }
        name(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// `"key":["value",...]`; left out when `values` is nil.
    public mutating func field(_ key: String, _ values: [String]?) {
        guard let values else { return }
        name(key)
        bytes.append(UInt8(ascii: "["))
        needsComma.append(false)
        for value in values {
            separate()
            string(value)
        }
        endArray()
    }

    /// `"key":{`, to be closed with `endObject()`.
    public mutating func beginObject(_ key: String) {
        name(key)
        bytes.append(UInt8(ascii: "{"))
        needsComma.append(false)
    }

    private mutating func openContainer(_ bracket: UInt8) {
        separate()
        bytes.append(bracket)
        needsComma.append(false)
    }

    private mutating func closeContainer(_ bracket: UInt8) {
        needsComma.removeLast()
        bytes.append(bracket)
    }

    private mutating func separate() {
        guard let last = needsComma.indices.last else { return }
        if needsComma[last] { bytes.append(UInt8(ascii: ",")) }
        needsComma[last] = true
    }

    private mutating func name(_ key: String) {
        separate()
        appendString(key)
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func string(_ value: String) { appendString(value) }

    private mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        // Tokens, ids and URLs need no escaping: copy them whole.
        if value.utf8.withContiguousStorageIfAvailable({ !$0.contains(where: Self.needsEscape) }) == true {
            bytes.append(contentsOf: value.utf8)
        } else {
            appendEscaped(value)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private mutating func appendEscaped(_ value: String) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00 where replacingNUL: bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: bytes.append(byte)
            }
        }
    }
}
