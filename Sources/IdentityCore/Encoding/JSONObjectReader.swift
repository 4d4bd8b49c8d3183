import Foundation

/// Reads fields out of a JSON object, failing with an `AdminError` that names the field.
public struct JSONObjectReader: Sendable {
    public let fields: [String: JSONValue]
    private let context: String

    public init(_ value: JSONValue, context: String = "") throws {
        guard case .object(let fields) = value else { throw AdminError.invalidBody("body must be a JSON object") }
        self.fields = fields
        self.context = context
    }

    /// The qualified name of `key` in this object, as errors show it (`step_up[0].acr`).
    public func name(_ key: String) -> String { context.isEmpty ? key : "\(context).\(key)" }

    /// Fails on the first field (in sorted order) that is not in `allowed`.
    public func rejectUnknown(_ allowed: Set<String>) throws {
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw AdminError.invalidField(name(unknown), "unknown field")
        }
    }

    public func has(_ key: String) -> Bool { fields[key] != nil }

    /// A string; a NUL in it is refused (no field of the admin API carries one, and a store may not keep it).
    public func string(_ key: String) throws -> String? {
        switch fields[key] {
        case nil, .null?: return nil
        case .string(let value)?:
            guard !value.utf8.contains(0) else { throw AdminError.invalidField(name(key), "must not contain NUL characters") }
            return value
        default: throw AdminError.invalidField(name(key), "must be a string")
        }
    }

    public func requiredString(_ key: String) throws -> String {
        guard let value = try string(key) else { throw AdminError.invalidField(name(key), "is required") }
        return value
    }

    public func bool(_ key: String) throws -> Bool? {
        switch fields[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw AdminError.invalidField(name(key), "must be true or false")
        }
    }

    /// A whole number within `range`.
    public func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        switch fields[key] {
        case nil, .null?: return nil
        case .number(let value)?:
            guard value.rounded() == value, value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
                throw AdminError.invalidField(name(key), "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return Int(value)
        default: throw AdminError.invalidField(name(key), "must be a whole number")
        }
    }

    public func strings(_ key: String) throws -> [String]? {
        switch fields[key] {
        case nil, .null?: return nil
        case .array(let items)?:
            return try items.map {
                guard case .string(let text) = $0 else { throw AdminError.invalidField(name(key), "must be an array of strings") }
                guard !text.utf8.contains(0) else { throw AdminError.invalidField(name(key), "must not contain NUL characters") }
                return text
            }
        default: throw AdminError.invalidField(name(key), "must be an array of strings")
        }
    }

    public func objects(_ key: String) throws -> [JSONObjectReader]? {
        switch fields[key] {
        case nil, .null?: return nil
        case .array(let items)?:
            return try items.enumerated().map { index, item in
                guard case .object = item else { throw AdminError.invalidField("\(name(key))[\(index)]", "must be an object") }
                return try JSONObjectReader(item, context: "\(name(key))[\(index)]")
            }
        default: throw AdminError.invalidField(name(key), "must be an array of objects")
        }
    }

    /// A nested object, read with its qualified name as context (`rate_limit.window`).
    public func object(_ key: String) throws -> JSONObjectReader? {
        switch fields[key] {
        case nil, .null?: return nil
        case .object?: return try JSONObjectReader(fields[key]!, context: name(key))
        default: throw AdminError.invalidField(name(key), "must be an object")
        }
    }
}
