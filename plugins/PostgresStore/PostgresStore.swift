import Foundation
import IdentityCore
import Logging
import PostgresNIO
import Synchronization

/// The store protocols on PostgreSQL through postgres-nio's `PostgresClient` and its connection pool: the
/// production backend, shared by every identityd node.
///
/// Each operation runs in its own transaction that first sets `app.tenant_id` (row-level security); the
/// token endpoints' reads and the refresh grant's compare-and-set write are one prepared server-side
/// function call each, which sets the tenant itself. Connection and
/// server failures surface as `StoreError.unavailable`; an operation that gets no answer within
/// `operationTimeout` fails instead of queueing, and after such a failure operations fail at once for a short
/// back-off, so requests fail fast while the database is down and the pool reconnects by itself when it returns.
public final class PostgresStore: IdentityStore {
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
        /// `sslmode`: `disable` (default) or `require`.
        public var requireTLS = false

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
                case "sslmode": requireTLS = value == "require" || value == "verify-full"
                default: throw StoreError.unavailable("unknown store URL option \(item.name)")
                }
            }
        }
    }

    let client: PostgresClient
    /// The event loops of the pool's connections, shut down by `close()`.
    private let loops: MultiThreadedEventLoopGroup
    let logger: Logger
    let settings: Settings
    private let runner: Task<Void, Never>
    /// Until when operations fail at once, after the database failed to answer.
    private let outage = Mutex<ContinuousClock.Instant?>(nil)
    /// The operations under way with their deadlines, and the watchdog that fails those past theirs.
    private let deadlines = Deadlines()
    private let watchdog: Task<Void, Never>

    /// Connects a pool to the database of `url`; the pool runs until `close()`.
    public static func connect(url: String, logger: Logger = Logger(label: "identityd.postgres")) throws -> PostgresStore {
        let settings = try Settings(url: url)
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: settings.requireTLS ? .require(.makeClientConfiguration()) : .disable)
        configuration.options.maximumConnections = settings.poolSize
        // The pool is kept full and postgres-nio's own keep-alive is off: it scheduled a timer task for every
        // connection each time one went idle — after every query — and those tasks cost a third of a refresh
        // grant's CPU and grew RSS by ~40 MB per 15,000 rotations. The watchdog pings the pool instead.
        configuration.options.minimumConnections = settings.poolSize
        configuration.options.keepAliveBehavior = nil
        configuration.options.connectTimeout = .seconds(settings.connectTimeout)
        // The connections get event loops of their own. `identityd serve` runs request tasks on the shared event
        // loops (decision 26); a database reply read on one of those waited behind the tasks queued there,
        // holding its pooled connection meanwhile, which cost PostgreSQL-bound grants 11–14 % of throughput.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount / 4))
        return PostgresStore(client: PostgresClient(configuration: configuration, eventLoopGroup: loops, backgroundLogger: logger),
                             loops: loops, logger: logger, settings: settings)
    }

    private init(client: PostgresClient, loops: MultiThreadedEventLoopGroup, logger: Logger, settings: Settings) {
        self.client = client
        self.loops = loops
        self.logger = logger
        self.settings = settings
        // Immediate: `run()` marks the client running before its first suspension, so the first lease (the
        // migration, right after) does not log that `run()` has not been called yet.
        runner = Task.immediate { await client.run() }
        let keepingAlive = KeepAliveRound()
        watchdog = Task { [deadlines] in
            var tick = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: Deadlines.resolution)
                deadlines.expire(now: .now)
                tick += 1
                // One round at a time: while the database is away a round may wait long.
                if tick.isMultiple(of: Self.keepAliveTicks), keepingAlive.start() {
                    Task {
                        await Self.keepAlive(client, connections: settings.poolSize, logger: logger)
                        keepingAlive.end()
                    }
                }
            }
        }
    }

    /// Every 30 s (300 watchdog ticks) each pooled connection runs `SELECT 1`, so that idle connections stay
    /// open through NATs and firewalls and a dead one is replaced before a request needs it. Failures are
    /// not an outage (a request that fails reports one).
    static let keepAliveTicks = 300

    final class KeepAliveRound: Sendable {
        private let running = Mutex(false)
        func start() -> Bool { running.withLock { running in defer { running = true }; return !running } }
        func end() { running.withLock { $0 = false } }
    }

    private static func keepAlive(_ client: PostgresClient, connections: Int, logger: Logger) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    do {
                        _ = try await client.query("SELECT 1", logger: logger).collect()
                    } catch {
                        logger.debug("postgres keep-alive failed", metadata: ["error": "\(String(reflecting: error))"])
                    }
                }
            }
        }
    }

    /// Stops the pool. Waits at most a few seconds for it to wind down (it may be retrying a dead server).
    public func close() async throws {
        watchdog.cancel()
        runner.cancel()
        let runner = self.runner
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await runner.value }
            group.addTask { try? await Task.sleep(for: .seconds(3)) }
            await group.next()
            group.cancelAll()
        }
        try? await loops.shutdownGracefully()
    }

    public func ping() async throws {
        try await reportingOutages { _ = try await self.client.query("SELECT 1", logger: self.logger).collect() }
    }

    // MARK: running queries

    /// Runs `body` in a transaction whose `app.tenant_id` is `tenantID` (`"*"`: every tenant).
    @discardableResult
    func inTenant<T: Sendable>(_ tenantID: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await reportingOutages {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(tenantID), true)", logger: self.logger)
                return try await body(connection)
            }
        }
    }

    /// Runs one prepared statement that sets its tenant itself (the token endpoints' hot path; see `Prepared`).
    func execute<Statement>(_ statement: Prepared<Statement>) async throws -> [Row] {
        try await reportingOutages { try await self.rows(of: statement) }
    }

    /// The rows of one prepared statement, its errors as postgres-nio throws them: for use inside
    /// `reportingOutages` by a caller that handles some of them itself.
    func rows<Statement>(of statement: Prepared<Statement>) async throws -> [Row] {
        var rows: [Row] = []
        for try await row in try await client.execute(statement, logger: logger) { rows.append(row) }
        return rows
    }

    /// Runs `body` within `operationTimeout` (`bounded: false`: however long it takes), reporting database and
    /// connection failures as `StoreError.unavailable` (a unique violation as `StoreError.conflict`).
    ///
    /// Fails fast while the database is away: the deadline answers the caller even if the operation is stuck
    /// in a pool or on a half-dead connection (it is cancelled and left to finish in the background), and after
    /// a connection failure or a missed deadline every operation fails at once for `outageBackoff`, instead
    /// of each request waiting out its own timeout. A server error with an SQLSTATE does not count: the
    /// database answered.
    func reportingOutages<T: Sendable>(bounded: Bool = true, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        if let until = outage.withLock({ $0 }), ContinuousClock.now < until {
            throw StoreError.unavailable("postgres: unavailable (backing off after a failure)")
        }
        do {
            return try await bounded ? withDeadline(.seconds(settings.operationTimeout), body) : body()
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError as? StoreError { throw inner }
            if let inner = error.closureError as? PSQLError { throw report(Self.storeError(inner), answered: inner.serverInfo != nil) }
            throw report(.unavailable("postgres: transaction failed"), answered: false)
        } catch let error as PSQLError {
            throw report(Self.storeError(error), answered: error.serverInfo != nil)
        } catch let error as StoreError {
            throw error
        } catch is CancellationError {
            throw StoreError.unavailable("postgres: cancelled")
        } catch let error as DeadlineExceeded {
            throw report(.unavailable("postgres: no answer within \(error.seconds) s"), answered: false)
        } catch {
            throw report(.unavailable("postgres: \(error)"), answered: false)
        }
    }

    /// Starts the back-off when the database did not answer at all.
    private func report(_ error: StoreError, answered: Bool) -> StoreError {
        if !answered { outage.withLock { $0 = ContinuousClock.now + Self.outageBackoff } }
        return error
    }

    static let outageBackoff = Duration.milliseconds(500)

    struct DeadlineExceeded: Error { let seconds: Int }

    /// `body`'s result, or `DeadlineExceeded` once `timeout` has passed (give or take the watchdog's
    /// resolution), whichever comes first. Unlike a task group, this does not wait for a body that ignores
    /// cancellation. One task per operation; no timer of its own (a timer task per operation was measurable).
    func withDeadline<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let race = DeadlineRace<T>()
        let seconds = Int(timeout.components.seconds)
        return try await withCheckedThrowingContinuation { continuation in
            race.pending.withLock { $0 = continuation }
            let id = deadlines.add(ContinuousClock.now + timeout) { work in
                guard let waiting = race.take() else { return }
                work?.cancel()
                waiting.resume(throwing: DeadlineExceeded(seconds: seconds))
            }
            let work = Task { [deadlines] in
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                deadlines.remove(id)
                race.take()?.resume(with: result)
            }
            // Held by the deadline's entry only (which goes when the work ends), never by `race`: a task
            // that holds what its own closure captures is never freed.
            deadlines.attach(work, to: id)
        }
    }

    /// The caller waiting on `withDeadline`, resumed by whichever of the work and the watchdog ends first.
    final class DeadlineRace<T: Sendable>: Sendable {
        let pending = Mutex<CheckedContinuation<T, any Error>?>(nil)

        func take() -> CheckedContinuation<T, any Error>? {
            pending.withLock { pending in
                defer { pending = nil }
                return pending
            }
        }
    }

    /// Deadlines of the operations under way, with their work; `expire` runs the expiry of those past theirs.
    final class Deadlines: Sendable {
        typealias Expiry = @Sendable (Task<Void, Never>?) -> Void
        static let resolution = Duration.milliseconds(100)
        private let state = Mutex<(next: UInt64, entries: [UInt64: (at: ContinuousClock.Instant, work: Task<Void, Never>?, expire: Expiry)])>((0, [:]))

        func add(_ at: ContinuousClock.Instant, expire: @escaping Expiry) -> UInt64 {
            state.withLock { state in
                state.next &+= 1
                state.entries[state.next] = (at, nil, expire)
                return state.next
            }
        }

        /// Keeps `work` with its deadline, unless it has already ended (and removed the entry).
        func attach(_ work: Task<Void, Never>, to id: UInt64) {
            state.withLock { $0.entries[id]?.work = work }
        }

        func remove(_ id: UInt64) {
            _ = state.withLock { $0.entries.removeValue(forKey: id) }
        }

        func expire(now: ContinuousClock.Instant) {
            let due = state.withLock { state in
                let ids = state.entries.filter { $0.value.at <= now }.map(\.key)
                return ids.compactMap { state.entries.removeValue(forKey: $0) }
            }
            for entry in due { entry.expire(entry.work) }
        }
    }

    /// A server error as the store contract reports it: a unique violation is a conflict named like the other
    /// plugins name it; anything else means the database cannot serve. (No bound values: they may be secrets.)
    static func storeError(_ error: PSQLError) -> StoreError {
        guard error.serverInfo?[.sqlState] == "23505" else {
            return .unavailable("postgres: \(error.code) \(error.serverInfo?[.sqlState] ?? "") \(error.serverInfo?[.message] ?? "")")
        }
        switch error.serverInfo?[.tableName] {
        case "tenants": return .conflict("tenant")
        case "clients": return .conflict("client")
        case "users": return .conflict("username")
        default: return .conflict(error.serverInfo?[.constraintName] ?? "unique")
        }
    }

    // MARK: migrations

    public func migrate() async throws {
        try await reportingOutages(bounded: false) {
            try await self.client.withConnection { connection in
                // One node migrates at a time; the others wait, then find nothing left to do.
                try await connection.query("SELECT pg_advisory_lock(727274001)", logger: self.logger)
                do {
                    try await self.applyMigrations(on: connection)
                    try await connection.query("SELECT pg_advisory_unlock(727274001)", logger: self.logger)
                } catch {
                    _ = try? await connection.query("SELECT pg_advisory_unlock(727274001)", logger: self.logger)
                    throw error
                }
            }
        }
    }

    private func applyMigrations(on connection: PostgresConnection) async throws {
        try await connection.query("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)",
                                   logger: logger)
        let rows = try await connection.query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations", logger: logger).collect()
        let current = try rows.first?.makeRandomAccess()["v"].decode(Int.self) ?? 0
        let known = PostgresSchema.migrations.count
        guard current <= known else { throw StoreError.schemaTooNew(found: current, known: known) }
        for (index, statements) in PostgresSchema.migrations.enumerated() where index + 1 > current {
            try await connection.withTransaction(logger: logger) { connection in
                for sql in statements { try await connection.query(PostgresQuery(unsafeSQL: sql), logger: self.logger) }
                try await connection.query("INSERT INTO schema_migrations (version, applied_at) VALUES (\(index + 1), now())", logger: self.logger)
            }
            logger.notice("applied schema migration", metadata: ["version": "\(index + 1)"])
        }
    }
}
