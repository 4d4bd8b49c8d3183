import CHiredis
import Foundation
import Logging
import NIOPosix
import Synchronization

/// A reply of Redis, copied out of hiredis's memory.
public enum RedisReply: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case null
    case array([RedisReply])
    /// An error reply (`-ERR ...`): Redis answered, the command failed.
    case error(String)

    public var integerValue: Int? { if case .integer(let value) = self { value } else { nil } }

    /// A copy of a reply hiredis parsed.
    init(_ reply: UnsafeMutablePointer<redisReply>) {
        let value = reply.pointee
        func text() -> String { value.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: value.len), as: UTF8.self) } ?? "" }
        switch value.type {
        case REDIS_REPLY_STRING, REDIS_REPLY_STATUS: self = .string(text())
        case REDIS_REPLY_ERROR: self = .error(text())
        case REDIS_REPLY_INTEGER: self = .integer(Int(value.integer))
        case REDIS_REPLY_ARRAY: self = .array((0..<value.elements).compactMap { value.element[$0].map(RedisReply.init) })
        default: self = .null
        }
    }
}
