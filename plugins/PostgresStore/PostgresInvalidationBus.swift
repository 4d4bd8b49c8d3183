import Foundation
import IdentityCore
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// Invalidations over PostgreSQL's LISTEN/NOTIFY (channel `identityd_invalidations`), for several nodes on
/// one database without Redis. Publishing is a `pg_notify` through the pool; receiving runs on a dedicated
/// connection that LISTENs, opened again after it fails. Each message carries the sending node's id, so a
/// node skips its own; a notification's payload is at most 8,000 bytes, so long revocation lists go in parts.
public final class PostgresInvalidationBus: InvalidationBus {
    static let channel = "identityd_invalidations"
    let store: PostgresStore
    let logger: Logger
    let nodeID = UUID().uuidString
    private let listener = Mutex<Task<Void, Never>?>(nil)

    public init(store: PostgresStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func publish(_ invalidation: Invalidation) async {
        do {
            for payload in try Self.payloads(invalidation) {
                try await store.notify(Self.channel, payload: nodeID + " " + payload)
            }
        } catch {
            logger.warning("could not publish an invalidation; other nodes catch up when their caches expire", metadata: ["error": "\(error)"])
        }
    }

    /// `invalidation` as notification payloads of at most about 7,000 bytes.
    static func payloads(_ invalidation: Invalidation) throws -> [String] {
        let encoder = JSONEncoder()
        guard case .revocations(let list) = invalidation, list.count > 20 else {
            return [String(decoding: try encoder.encode(invalidation), as: UTF8.self)]
        }
        return try stride(from: 0, to: list.count, by: 20).map {
            String(decoding: try encoder.encode(Invalidation.revocations(Array(list[$0..<min($0 + 20, list.count)]))), as: UTF8.self)
        }
    }

    /// Starts listening; `deliver` runs for every message from another node, and with `nil` after each
    /// (re)subscription, when messages may have been missed.
    public func start(_ deliver: @escaping @Sendable (Invalidation?) -> Void) {
        let task = Task { [self] in
            var failures = 0
            while !Task.isCancelled {
                do {
                    let connection = try await store.dedicatedConnection()
                    defer { Task { try? await connection.close() } }
                    try await connection.listen(on: Self.channel) { notifications in
                        if failures > 0 { logger.notice("invalidation bus listening again") }
                        failures = 0
                        deliver(nil)
                        for try await notification in notifications {
                            let text = notification.payload
                            guard let space = text.firstIndex(of: " "), text[..<space] != nodeID,
                                  let invalidation = try? JSONDecoder().decode(Invalidation.self, from: Data(text[text.index(after: space)...].utf8))
                            else { continue }
                            deliver(invalidation)
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    if failures == 0 { logger.warning("invalidation bus lost its LISTEN connection", metadata: ["error": "\(error)"]) }
                    failures += 1
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        listener.withLock { $0 = task }
    }

    public func stop() {
        listener.withLock { $0?.cancel() }
    }
}

extension PostgresStore {
    /// `pg_notify(channel, payload)` through the pool.
    func notify(_ channel: String, payload: String) async throws {
        let logger = self.logger
        try await reportingOutages {
            _ = try await self.client.query("SELECT pg_notify(\(channel), \(payload))", logger: logger).collect()
        }
    }

    /// A connection of its own (for LISTEN), to the database of the store's settings.
    func dedicatedConnection() async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(host: settings.host, port: settings.port, username: settings.username,
                                                             password: settings.password, database: settings.database, tls: .disable)
        if settings.tlsMode != .disable {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = settings.tlsMode == .verifyFull ? .fullVerification : .none
            configuration.tls = .require(try NIOSSLContext(configuration: tls))
        }
        configuration.options.connectTimeout = .seconds(Int64(settings.connectTimeout))
        return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
    }
}
