import Foundation
import IdentityCore
import Logging
import PostgresNIO
import Synchronization

extension PostgresStore {
    /// Where and how to connect, parsed from `postgres://user:password@host:port/database?options`.
    public struct Settings: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        /// `pool_size`: connections per node (default 16).
        public var poolSize: Int = 16
        /// `connect_timeout`: seconds to establish a connection (default 3).
        public var connectTimeout: Int = 3
        /// `operation_timeout`: seconds an operation may take in all, waiting for a connection included (default 5).
        public var operationTimeout: Int = 5
        /// How the connection is encrypted (`sslmode`, as libpq names the modes).
        public enum TLSMode: String, Sendable, Equatable {
            /// No TLS (the default).
            case disable
            /// TLS, the server's certificate not checked (libpq's `require`): encrypted, not authenticated.
            case require
            /// TLS, the certificate checked against the system's trust roots and the host name.
            case verifyFull = "verify-full"
        }
        /// `sslmode`: `disable` (default), `require` or `verify-full`; anything else is refused rather than
        /// quietly meaning no TLS.
        public var tlsMode = TLSMode.disable

        public init(url: String) throws {
            guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
                  let host = components.host, !host.isEmpty else {
                throw StoreError.unavailable("IDENTITY_STORE must look like postgres://user:password@host:5432/database")
            }
            self.host = host
            port = components.port ?? 5432
            username = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "postgres"
            password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
            let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            database = path.isEmpty ? username : path
            for item in components.queryItems ?? [] {
                let value = item.value ?? ""
                func number(_ range: ClosedRange<Int>) throws -> Int {
                    guard let number = Int(value), range.contains(number) else {
                        throw StoreError.unavailable("store URL option \(item.name) must be a number in \(range)")
                    }
                    return number
                }
                switch item.name {
                case "pool_size": poolSize = try number(1...1000)
                case "connect_timeout": connectTimeout = try number(1...300)
                case "operation_timeout": operationTimeout = try number(1...600)
                case "sslmode":
                    guard let mode = TLSMode(rawValue: value) else {
                        throw StoreError.unavailable("store URL option sslmode must be disable, require or verify-full, got \(value)")
                    }
                    tlsMode = mode
                default: throw StoreError.unavailable("unknown store URL option \(item.name)")
                }
            }
        }
    }
}
