import Foundation
import IdentityCore
import Logging
import Synchronization

/// Invalidations over Redis pub/sub (channel `identityd:invalidations`). Publishing goes through the pool;
/// receiving runs on a thread of its own with a dedicated connection, blocked in hiredis between messages.
/// Each message carries the sending node's id, so a node skips its own.
public final class RedisInvalidationBus: InvalidationBus {
    static let channel = "identityd:invalidations"
    let client: RedisClient
    let logger: Logger
    let nodeID = UUID().uuidString
    private let subscriber: Mutex<RedisSubscriberConnection?> = Mutex(nil)
    private let stopped = Mutex(false)

    init(client: RedisClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func publish(_ invalidation: Invalidation) async {
        do {
            let payload = String(decoding: try JSONEncoder().encode(invalidation), as: UTF8.self)
            _ = try await client.command("PUBLISH", Self.channel, nodeID + " " + payload)
        } catch {
            logger.warning("could not publish an invalidation; other nodes catch up when their caches expire", metadata: ["error": "\(error)"])
        }
    }

    /// Starts receiving; `deliver` runs on the subscriber thread for every message from another node, and with
    /// `nil` after each (re)subscription, when messages may have been missed.
    public func start(_ deliver: @escaping @Sendable (Invalidation?) -> Void) {
        let thread = Thread { [self] in receive(deliver) }
        thread.name = "identityd-redis-subscriber"
        thread.start()
    }

    func stop() {
        stopped.withLock { $0 = true }
        subscriber.withLock { $0?.interrupt() }
    }

    private func receive(_ deliver: @escaping @Sendable (Invalidation?) -> Void) {
        var failures = 0
        while !stopped.withLock({ $0 }) {
            let connection = RedisSubscriberConnection(settings: client.settings)
            subscriber.withLock { $0 = connection }
            do {
                _ = try connection.run([["SUBSCRIBE", Self.channel]])
                if failures > 0 { logger.notice("invalidation bus subscribed again") }
                failures = 0
                deliver(nil)
                while true {
                    guard case .array(let parts) = try connection.next(), parts.count == 3, parts[0] == .string("message"),
                          case .string(let text) = parts[2], let space = text.firstIndex(of: " ") else { continue }
                    guard text[..<space] != nodeID else { continue }
                    if let invalidation = try? JSONDecoder().decode(Invalidation.self, from: Data(text[text.index(after: space)...].utf8)) {
                        deliver(invalidation)
                    }
                }
            } catch {
                subscriber.withLock { $0 = nil }
                connection.close()
                if stopped.withLock({ $0 }) { break }
                if failures == 0 { logger.warning("invalidation bus lost its subscription", metadata: ["error": "\(error)"]) }
                failures += 1
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        subscriber.withLock { $0 = nil }
    }
}
