import Foundation
import IdentityCore
import Logging
import NIOSSL
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

    let client: PostgresClient
    /// The event loops of the pool's connections, shut down by `close()`.
    private let loops: MultiThreadedEventLoopGroup
    let logger: Logger
    let settings: Settings
    private let runner: Task<Void, Never>
    /// Until when operations fail at once, after the database failed to answer.
    private let outage = Mutex<ContinuousClock.Instant?>(nil)
    /// The operations under way with their deadlines, and the watchdog that fails those past theirs.
    let deadlines = Deadlines()
    private let watchdog: Task<Void, Never>

    /// Connects a pool to the database of `url`; the pool runs until `close()`.
    public static func connect(url: String, logger: Logger = Logger(label: "identityd.postgres")) throws -> PostgresStore {
        let settings = try Settings(url: url)
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: try tls(settings.tlsMode))
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

    /// postgres-nio's TLS for `mode`: `require` encrypts without checking the certificate; `verify-full`
    /// checks the chain against the system's roots and the host name (NIOSSL's full verification).
    static func tls(_ mode: Settings.TLSMode) throws -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .require:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            return .require(configuration)
        case .verifyFull:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .fullVerification
            return .require(configuration)
        }
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

    /// Runs `body` in a transaction whose `app.tenant_id` is `tenantID`: row-level security shows it that
    /// tenant's rows only.
    @discardableResult
    func inTenant<T: Sendable>(_ tenantID: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await reportingOutages {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', \(tenantID), true)", logger: self.logger)
                return try await body(connection)
            }
        }
    }

    /// Runs `body` in a transaction that sees every tenant's rows (`app.cross_tenant`): for the few operations
    /// that span tenants (list tenants, find a tenant by admin key, warm the revocation cache, purge, write
    /// audit batches). No tenant id from a request can select this.
    @discardableResult
    func inAllTenants<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await reportingOutages {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await connection.query("SELECT set_config('app.cross_tenant', 'on', true)", logger: self.logger)
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

    /// A server error as the store contract reports it: a unique violation is a conflict named like the other
    /// plugins name it; anything else means the database cannot serve. (No bound values: they may be secrets.)
    static func storeError(_ error: PSQLError) -> StoreError {
        let state = error.serverInfo?[.sqlState] ?? ""
        guard state == "23505" else {
            let description = "postgres: \(error.code) \(state) \(error.serverInfo?[.message] ?? "")"
            // Data exceptions, integrity violations, program limits: the database refuses the values themselves
            // (a NUL in a jsonb string is 22P05); the same write would fail again.
            return ["22", "23", "54"].contains(state.prefix(2)) ? .rejected(description) : .unavailable(description)
        }
        switch error.serverInfo?[.tableName] {
        case "tenants": return .conflict("tenant")
        case "clients": return .conflict("client")
        case "users": return .conflict("username")
        case "authorization_codes": return .conflict("authorization code")
        default: return .conflict(error.serverInfo?[.constraintName] ?? "unique")
        }
    }
}
