import CHiredis
import Foundation
import Logging
import NIOPosix
import Synchronization

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
