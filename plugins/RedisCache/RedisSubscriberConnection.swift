import CHiredis
import Foundation
import Logging
import NIOPosix
import Synchronization

/// One blocking hiredis connection, for the invalidation bus's subscriber thread: it waits in `next()` between
/// messages, without a read timeout, for as long as there are none. Only one thread uses it at a time.
final class RedisSubscriberConnection: @unchecked Sendable {
    private var context: UnsafeMutablePointer<redisContext>?
    let settings: RedisSettings

    init(settings: RedisSettings) { self.settings = settings }
    deinit { close() }

    func close() {
        if let context { redisFree(context) }
        context = nil
    }

    private var timeout: timeval {
        timeval(tv_sec: settings.timeoutMilliseconds / 1000, tv_usec: (settings.timeoutMilliseconds % 1000) * 1000)
    }

    private func connect() throws {
        guard let connection = redisConnectWithTimeout(settings.host, Int32(settings.port), timeout) else {
            throw RedisError("redis: cannot allocate a connection")
        }
        if connection.pointee.err != 0 {
            let message = Self.message(connection)
            redisFree(connection)
            throw RedisError("redis \(settings.host):\(settings.port): \(message)")
        }
        context = connection
        for case .error(let message) in try run(settings.connectionSetup) {
            close()
            throw RedisError("redis: \(message)")
        }
    }

    /// Sends `commands` in one write and reads their replies (connecting first if needed).
    func run(_ commands: [[String]]) throws -> [RedisReply] {
        if context == nil { try connect() }
        guard let connection = context else { throw RedisError("redis: not connected") }
        for command in commands {
            let status = RedisArguments.with(command) { count, arguments, lengths in
                redisAppendCommandArgv(connection, count, arguments, lengths)
            }
            guard status == REDIS_OK else { throw failure(connection) }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try next()) }
        return replies
    }

    /// Reads the next reply, blocking.
    func next() throws -> RedisReply {
        guard let connection = context else { throw RedisError("redis: not connected") }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(connection, &raw) == REDIS_OK, let raw else { throw failure(connection) }
        defer { freeReplyObject(raw) }
        return RedisReply(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Makes a `next()` blocked in another thread return (with an error).
    func interrupt() {
        if let context { shutdown(context.pointee.fd, Int32(SHUT_RDWR)) }
    }

    private func failure(_ connection: UnsafeMutablePointer<redisContext>) -> RedisError {
        let error = RedisError("redis \(settings.host):\(settings.port): \(Self.message(connection))")
        close()
        return error
    }

    private static func message(_ connection: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: connection.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }.nonEmpty ?? "connection error \(connection.pointee.err)"
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
