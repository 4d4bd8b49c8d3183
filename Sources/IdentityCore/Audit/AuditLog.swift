import Foundation
import Synchronization

/// Records audit events. Appends are buffered and written in batches (past `flushThreshold` events, and by the
/// server's periodic `flush()`) so that the token endpoints do not pay a database write per event; `flush()`
/// is also called before the log is read, and `drain(timeout:)` on shutdown.
///
/// The queue is bounded, and no event is ever dropped: while `capacity` events wait to be written, the token
/// endpoints wait in `admit()` for the writer to make room (up to `admissionTimeout`, then they answer 503).
/// Token issuance is paced by what the store can record instead of the queue growing without limit: on
/// PostgreSQL it did, past 120 MB in 45 s of client_credentials at 14,000/s.
public final class AuditLog: Sendable {
    private struct Queue {
        var events: [AuditEvent] = []
        /// Events the writer has taken and not yet written (they count against the capacity).
        var writing = 0
        /// A chunk whose write failed, kept whole under its name for the next flush to write first: the store
        /// may have committed it after all (a missed deadline), and it writes a name only once.
        var unconfirmed: (name: String, events: [AuditEvent])?
        var flushQueued = false
        /// Whether the last write failed (its error is logged once, not at every retry).
        var failing = false
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter = 0

        var count: Int { events.count + writing + (unconfirmed?.events.count ?? 0) }
    }

    private let store: any EventStore
    private let logger: LogSink
    /// Counts what the recorded events say (tokens issued, refresh outcomes, failures): see `IdentityMetrics`.
    public let metrics: IdentityMetrics
    private let random: any RandomSource
    private let queue = Mutex(Queue())
    private let writer = SerialWriter()
    let flushThreshold: Int
    let capacity: Int
    let admissionTimeout: Duration

    public init(store: any EventStore, logger: LogSink, random: any RandomSource = SystemRandomSource(), metrics: IdentityMetrics = IdentityMetrics(),
                flushThreshold: Int = 256, capacity: Int = 20_000, admissionTimeout: Duration = .seconds(1)) {
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.random = random
        self.flushThreshold = flushThreshold
        self.capacity = capacity
        self.admissionTimeout = admissionTimeout
    }

    /// Events queued and not yet written.
    public var queued: Int { queue.withLock { $0.count } }

    /// Returns at once while the queue has room; otherwise waits for the writer to make some, and throws
    /// `OAuthError.temporarilyUnavailable` if it has not within `admissionTimeout` (the store is failing).
    /// Called before a request that may record events; the events it records are then always queued, so the
    /// bound is soft by the number of requests in flight.
    public func admit() async throws {
        if queue.withLock({ $0.count < capacity }) { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let id = queue.withLock { queue -> Int? in
                guard queue.count >= capacity else { return nil }
                queue.nextWaiter += 1
                queue.waiters[queue.nextWaiter] = continuation
                return queue.nextWaiter
            }
            guard let id else { return continuation.resume() }
            Task { [admissionTimeout] in
                try? await Task.sleep(for: admissionTimeout)
                queue.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: OAuthError.temporarilyUnavailable)
            }
        }
    }

    /// Records an event of a request from `origin`.
    public func record(_ kind: AuditEvent.Kind, tenantID: String, at time: Date, origin: RequestOrigin = .init(), user: String? = nil,
                       client: String? = nil, session: String? = nil, token: String? = nil, detail: String? = nil) {
        record(AuditEvent(tenantID: tenantID, kind: kind, time: time, userID: user, clientID: client, sessionID: session,
                          tokenHashPrefix: token, ip: origin.ip, userAgent: origin.userAgent, detail: detail))
    }

    /// Queues `event`; also writes it to the server log (ids and reasons only, each at most 200 characters
    /// with control characters replaced: nothing a caller sends can forge a log line).
    public func record(_ event: AuditEvent) {
        var metadata = ["tenant": event.tenantID, "event": event.kind.rawValue]
        if let client = event.clientID { metadata["client"] = client }
        if let sid = event.sessionID { metadata["sid"] = sid }
        if let user = event.userID { metadata["user"] = user }
        if let detail = event.detail { metadata["detail"] = detail }
        logger.info("audit", metadata.mapValues(Self.loggable))
        metrics.observe(event)
        let startFlush = queue.withLock { queue in
            queue.events.append(event)
            guard queue.events.count >= flushThreshold, !queue.flushQueued, !queue.failing else { return false }
            queue.flushQueued = true
            return true
        }
        // One flush queued at a time: one per event past the threshold piled up thousands of waiting tasks
        // (and as many small batches) whenever the store was slower than the token endpoint. While writes
        // fail, only the periodic flush retries.
        if startFlush { Task { await self.flush() } }
    }

    /// Writes every queued event. Events are never dropped because the store failed: they are kept for the
    /// next flush. Only an event the store itself refuses (`StoreError.rejected`) is dropped, alone: a chunk
    /// the store rejects is split in halves, each written on its own, down to the single bad event, so that
    /// it cannot hold back the others (it is logged by kind and tenant, without its content).
    public func flush() async {
        await writer.run {
            let (retry, batch) = self.queue.withLock { queue in
                let batch = queue.events
                queue.events.removeAll(keepingCapacity: true)
                queue.writing = batch.count
                queue.flushQueued = false
                return (queue.unconfirmed, batch)
            }
            // In chunks: one huge batch (after an outage) must not become one statement the store cannot finish.
            var written = 0
            do {
                if let retry {
                    try await self.write(retry.events, named: retry.name)
                    self.settle { $0.unconfirmed = nil }
                }
                while written < batch.count {
                    let end = min(written + Self.chunk, batch.count)
                    let chunk = Array(batch[written..<end])
                    written = end
                    try await self.write(chunk, named: self.random.token(bytes: 16))
                    self.settle { $0.writing -= chunk.count }
                }
                if self.queue.withLock({ queue in defer { queue.failing = false }; return queue.failing }) {
                    self.logger.info("audit events are written again")
                }
            } catch {
                let unwritten = (error as? Unwritten)?.events ?? []
                let first = self.queue.withLock { queue in
                    queue.events.insert(contentsOf: unwritten + batch[written...], at: 0)
                    queue.writing = 0
                    defer { queue.failing = true }
                    return !queue.failing
                }
                if first {
                    let reason = (error as? Unwritten)?.error ?? error
                    self.logger.error("audit events could not be written; will retry", ["count": "\(self.queued)", "error": "\(reason)"])
                }
            }
        }
    }

    /// Events a failed write left behind (after the part it keeps under its name as `unconfirmed`).
    private struct Unwritten: Error {
        let events: [AuditEvent]
        let error: any Error
    }

    /// Writes `chunk` under `name`, bisecting what the store rejects. On any other failure the part under way
    /// is kept whole under its name (`unconfirmed`: it may have been committed after all) and the parts not
    /// yet tried are thrown back as `Unwritten`.
    private func write(_ chunk: [AuditEvent], named name: String) async throws {
        var work = [(name: name, events: chunk)]
        while let (name, events) = work.popLast() {
            do {
                try await metrics.storeOperation("append_events") { try await store.appendEvents(events, batch: name) }
            } catch StoreError.rejected(let reason) {
                guard events.count > 1 else {
                    let event = events[0]
                    logger.error("audit event dropped: the store refuses it", ["tenant": event.tenantID, "event": event.kind.rawValue, "error": reason])
                    continue
                }
                let half = events.count / 2
                work.append((random.token(bytes: 16), Array(events[half...])))
                work.append((random.token(bytes: 16), Array(events[..<half])))
            } catch {
                settle { $0.unconfirmed = (name, events) }
                throw Unwritten(events: work.reversed().flatMap(\.events), error: error)
            }
        }
    }

    /// Applies what the writer has done to the queue, and lets waiting requests in once there is room.
    private func settle(_ change: (inout Queue) -> Void) {
        let admitted = queue.withLock { queue -> [CheckedContinuation<Void, any Error>] in
            change(&queue)
            guard queue.count < capacity, !queue.waiters.isEmpty else { return [] }
            defer { queue.waiters.removeAll() }
            return Array(queue.waiters.values)
        }
        for waiter in admitted { waiter.resume() }
    }

    /// Writes every queued event, retrying while the store fails (it may be backing off after an error) for at
    /// most `timeout`; returns how many could not be written, which the error log also names. For shutdown.
    @discardableResult
    public func drain(timeout: Duration) async -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            await flush()
            let left = queued
            if left == 0 { return 0 }
            guard ContinuousClock.now < deadline else {
                logger.error("audit events lost: the store did not take them before shutdown", ["count": "\(left)"])
                return left
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    static let chunk = 1000

    /// `value` fit for a log line: control characters replaced, at most 200 characters.
    static func loggable(_ value: String) -> String {
        let scalars = value.unicodeScalars.prefix(200).map { $0.properties.generalCategory == .control ? "?" : Character($0) }
        return String(scalars)
    }

    /// The tenant's events, after writing what is pending.
    public func events(tenantID: String, kind: AuditEvent.Kind?, after: Int64, limit: Int) async throws -> [AuditEvent] {
        await flush()
        return try await store.events(tenantID: tenantID, kind: kind, after: after, limit: limit)
    }
}
