import CHiredis
import Foundation
import Logging
import NIOPosix
import Synchronization

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
