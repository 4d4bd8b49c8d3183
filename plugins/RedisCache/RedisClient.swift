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
}

public struct RedisError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Where Redis is: `redis://[:password@]host:port/db?pool_size=4&timeout_ms=500`.
public struct RedisSettings: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 6379
    public var database = 0
    public var password: String?
    /// Connections, each with a thread of its own (hiredis calls block).
    public var poolSize = 4
    /// Connect, read and write timeout.
    public var timeoutMilliseconds = 500

    public init(url: String) throws {
        guard let components = URLComponents(string: url), components.scheme == "redis", let host = components.host, !host.isEmpty else {
            throw RedisError("IDENTITY_CACHE must look like redis://host:6379/0")
        }
        self.host = host
        port = components.port ?? 6379
        password = components.password.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let database = Int(path), (0...1000).contains(database) else { throw RedisError("the Redis database must be a number: redis://host:6379/0") }
            self.database = database
        }
        for item in components.queryItems ?? [] {
            func number(_ range: ClosedRange<Int>) throws -> Int {
                guard let value = item.value.flatMap(Int.init), range.contains(value) else {
                    throw RedisError("cache URL option \(item.name) must be a number in \(range)")
                }
                return value
            }
            switch item.name {
            case "pool_size": poolSize = try number(1...64)
            case "timeout_ms": timeoutMilliseconds = try number(10...60_000)
            default: throw RedisError("unknown cache URL option \(item.name)")
            }
        }
    }
}

/// One blocking hiredis connection. Only one thread uses it at a time (the pool hands it out).
final class RedisConnection: @unchecked Sendable {
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

    private func connect(readTimeout: Bool) throws {
        guard let connection = redisConnectWithTimeout(settings.host, Int32(settings.port), timeout) else {
            throw RedisError("redis: cannot allocate a connection")
        }
        if connection.pointee.err != 0 {
            let message = Self.message(connection)
            redisFree(connection)
            throw RedisError("redis \(settings.host):\(settings.port): \(message)")
        }
        if readTimeout { redisSetTimeout(connection, timeout) }
        context = connection
        if let password = settings.password { try expectOK(run([["AUTH", password]])[0]) }
        if settings.database != 0 { try expectOK(run([["SELECT", String(settings.database)]])[0]) }
    }

    private func expectOK(_ reply: RedisReply) throws {
        if case .error(let message) = reply {
            close()
            throw RedisError("redis: \(message)")
        }
    }

    /// Sends `commands` in one write and reads their replies: a pipeline, one round trip. On an I/O error the
    /// connection is dropped and, if it was an old one (it may predate a Redis restart), the commands are tried
    /// once more on a new connection before the error is thrown.
    func run(_ commands: [[String]], readTimeout: Bool = true) throws -> [RedisReply] {
        guard context != nil else { return try attempt(commands, readTimeout: readTimeout) }
        do {
            return try attempt(commands, readTimeout: readTimeout)
        } catch {
            close()
            return try attempt(commands, readTimeout: readTimeout)
        }
    }

    private func attempt(_ commands: [[String]], readTimeout: Bool) throws -> [RedisReply] {
        if context == nil { try connect(readTimeout: readTimeout) }
        guard let connection = context else { throw RedisError("redis: not connected") }
        for command in commands {
            let status = Self.withArguments(command) { count, arguments, lengths in
                redisAppendCommandArgv(connection, count, arguments, lengths)
            }
            guard status == REDIS_OK else { throw failure(connection) }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try next()) }
        return replies
    }

    /// Reads the next reply, blocking (for a subscriber, without a read timeout).
    func next() throws -> RedisReply {
        guard let connection = context else { throw RedisError("redis: not connected") }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(connection, &raw) == REDIS_OK, let raw else { throw failure(connection) }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
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

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        func text() -> String { value.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: value.len), as: UTF8.self) } ?? "" }
        switch value.type {
        case REDIS_REPLY_STRING, REDIS_REPLY_STATUS: return .string(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_INTEGER: return .integer(Int(value.integer))
        case REDIS_REPLY_ARRAY: return .array((0..<value.elements).compactMap { value.element[$0].map(convert) })
        default: return .null
        }
    }

    /// `arguments` as the C argv and lengths hiredis takes (binary-safe).
    private static func withArguments<R>(_ arguments: [String], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        let copies = arguments.map { strdup($0)! }
        defer { copies.forEach { free($0) } }
        var pointers = copies.map { UnsafePointer($0) as UnsafePointer<CChar>? }
        let lengths = arguments.map { $0.utf8.count }
        return pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { body(Int32(arguments.count), argv.baseAddress!, $0.baseAddress!) }
        }
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}

/// A small pool of hiredis connections, each used from a thread of a dedicated `NIOThreadPool`, so that the
/// blocking calls never run on an event loop or on Swift's cooperative pool.
///
/// After a failure to reach Redis, calls fail at once for `backoff` (a probe still goes through), and the
/// health observers hear of each change of state once.
public final class RedisClient: Sendable {
    public let settings: RedisSettings
    let logger: Logger
    private let threads: NIOThreadPool
    private let idle: Mutex<[RedisConnection]>
    private let state = Mutex(Health())
    static let backoff = Duration.milliseconds(250)

    private struct Health {
        var reachable = true
        var failingUntil: ContinuousClock.Instant?
        var observers: [@Sendable (Bool) -> Void] = []
    }

    public init(settings: RedisSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        threads = NIOThreadPool(numberOfThreads: settings.poolSize)
        threads.start()
        idle = Mutex((0..<settings.poolSize).map { _ in RedisConnection(settings: settings) })
    }

    /// Whether the last call reached Redis.
    public var isReachable: Bool { state.withLock { $0.reachable } }

    /// Calls `observer` with `true` or `false` whenever Redis becomes reachable or unreachable.
    public func onHealthChange(_ observer: @escaping @Sendable (Bool) -> Void) {
        state.withLock { $0.observers.append(observer) }
    }

    /// Runs `commands` as one pipeline (one round trip). `probe`: try even while backing off.
    public func pipeline(_ commands: [[String]], probe: Bool = false) async throws -> [RedisReply] {
        if !probe, let until = state.withLock({ $0.failingUntil }), ContinuousClock.now < until {
            throw RedisError("redis unavailable (backing off after a failure)")
        }
        do {
            let replies = try await threads.runIfActive { [self] in
                let connection = idle.withLock { $0.popLast() } ?? RedisConnection(settings: settings)
                defer { idle.withLock { $0.append(connection) } }
                return try connection.run(commands)
            }
            record(reachable: true, error: nil)
            return replies
        } catch {
            record(reachable: false, error: error)
            throw error
        }
    }

    /// One command.
    public func command(_ arguments: String...) async throws -> RedisReply {
        try await pipeline([arguments])[0]
    }

    private func record(reachable: Bool, error: (any Error)?) {
        let (changed, observers) = state.withLock { health -> (Bool, [@Sendable (Bool) -> Void]) in
            health.failingUntil = reachable ? nil : ContinuousClock.now + Self.backoff
            guard health.reachable != reachable else { return (false, []) }
            health.reachable = reachable
            return (true, health.observers)
        }
        guard changed else { return }
        if reachable {
            logger.notice("redis reachable again", metadata: ["redis": "\(settings.host):\(settings.port)"])
        } else {
            logger.warning("redis unreachable", metadata: ["redis": "\(settings.host):\(settings.port)", "error": "\(error.map { "\($0)" } ?? "")"])
        }
        for observer in observers { observer(reachable) }
    }

    public func close() async {
        try? await threads.shutdownGracefully()
        idle.withLock { connections in connections.forEach { $0.close() } }
    }
}
