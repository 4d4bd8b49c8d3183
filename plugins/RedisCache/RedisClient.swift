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

/// A command's arguments as the C argv and lengths hiredis takes (binary-safe).
enum RedisArguments {
    static func with<R>(_ arguments: [String], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        let copies = arguments.map { strdup($0)! }
        defer { copies.forEach { free($0) } }
        var pointers = copies.map { UnsafePointer($0) as UnsafePointer<CChar>? }
        let lengths = arguments.map { $0.utf8.count }
        return pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { body(Int32(arguments.count), argv.baseAddress!, $0.baseAddress!) }
        }
    }
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
    /// Connections per node, spread over the event loops; nil: one per event loop (each carries every request
    /// of its loop, pipelined).
    public var poolSize: Int?
    /// Connect timeout, and how long a command may wait for its reply.
    public var timeoutMilliseconds = 500

    /// What a new connection sends first: AUTH and SELECT, as the URL says.
    var connectionSetup: [[String]] {
        var setup: [[String]] = []
        if let password { setup.append(["AUTH", password]) }
        if database != 0 { setup.append(["SELECT", String(database)]) }
        return setup
    }

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

/// One blocking hiredis connection, for the invalidation bus's subscriber thread: it waits in `next()` between
/// messages, without a read timeout, for as long as there are none. Only one thread uses it at a time.
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
    var nonEmpty: String? { isEmpty ? nil : self }
}

/// Connections to Redis on the event loops (`RedisChannelConnection`): a task on an event loop sends its
/// commands on a connection of that loop, so that neither the call nor its reply changes threads, and the
/// commands of all the loop's tasks share the connection in flight.
///
/// After a failure to reach Redis, calls fail at once for `backoff` (a probe still goes through); each change
/// of state is logged once.
public final class RedisClient: Sendable {
    public let settings: RedisSettings
    let logger: Logger
    private let connections: [RedisChannelConnection]
    /// The connections of each event loop, by the loop's identity.
    private let connectionsOfLoop: [ObjectIdentifier: [RedisChannelConnection]]
    private let nextConnection = Atomic(0)
    private let state = Mutex(Health())
    static let backoff = Duration.milliseconds(250)

    private struct Health {
        var reachable = true
        var failingUntil: ContinuousClock.Instant?
    }

    /// `group`: the loops the connections live on — those that run the request tasks (decision 26).
    public init(settings: RedisSettings, logger: Logger, group: MultiThreadedEventLoopGroup = .singleton) {
        self.settings = settings
        self.logger = logger
        let loops = Array(group.makeIterator())
        connections = (0..<(settings.poolSize ?? loops.count)).map { RedisChannelConnection(loop: loops[$0 % loops.count], settings: settings) }
        connectionsOfLoop = Dictionary(grouping: connections) { ObjectIdentifier($0.loop) }
    }

    /// A connection of the calling task's event loop if it runs on one of ours, any otherwise.
    private func connection() -> RedisChannelConnection {
        let turn = nextConnection.add(1, ordering: .relaxed).newValue
        if let loop = MultiThreadedEventLoopGroup.currentEventLoop, let own = connectionsOfLoop[ObjectIdentifier(loop)] {
            return own[turn % own.count]
        }
        return connections[turn % connections.count]
    }

    /// Whether the last call reached Redis.
    public var isReachable: Bool { state.withLock { $0.reachable } }

    /// Runs `commands` as one pipeline (one round trip). `probe`: try even while backing off.
    public func pipeline(_ commands: [[String]], probe: Bool = false) async throws -> [RedisReply] {
        if !probe, let until = state.withLock({ $0.failingUntil }), ContinuousClock.now < until {
            throw RedisError("redis unavailable (backing off after a failure)")
        }
        do {
            let replies = try await connection().run(commands)
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
        let changed = state.withLock { health -> Bool in
            health.failingUntil = reachable ? nil : ContinuousClock.now + Self.backoff
            guard health.reachable != reachable else { return false }
            health.reachable = reachable
            return true
        }
        guard changed else { return }
        if reachable {
            logger.notice("redis reachable again", metadata: ["redis": "\(settings.host):\(settings.port)"])
        } else {
            logger.warning("redis unreachable", metadata: ["redis": "\(settings.host):\(settings.port)", "error": "\(error.map { "\($0)" } ?? "")"])
        }
    }

    public func close() async {
        connections.forEach { $0.close() }
    }
}
