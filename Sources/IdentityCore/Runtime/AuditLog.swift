import Foundation
import Synchronization

/// Records audit events. Appends are buffered and written in batches (at most `flushInterval` late) so
/// that the token endpoints do not pay a database write per event; `flush()` writes what is pending, and
/// is called before the log is read and on shutdown.
public final class AuditLog: Sendable {
    private let store: any EventStore
    private let logger: LogSink
    private let pending = Mutex<(events: [AuditEvent], flushQueued: Bool)>(([], false))
    private let writer = SerialWriter()
    let flushThreshold: Int

    public init(store: any EventStore, logger: LogSink, flushThreshold: Int = 256) {
        self.store = store
        self.logger = logger
        self.flushThreshold = flushThreshold
    }

    /// Queues `event`; also writes it to the server log (ids and reasons only).
    public func record(_ event: AuditEvent) {
        var metadata = ["tenant": event.tenantID, "event": event.kind.rawValue]
        if let client = event.clientID { metadata["client"] = client }
        if let sid = event.sessionID { metadata["sid"] = sid }
        if let user = event.userID { metadata["user"] = user }
        if let detail = event.detail { metadata["detail"] = detail }
        logger.info("audit", metadata)
        let startFlush = pending.withLock { pending in
            pending.events.append(event)
            guard pending.events.count >= flushThreshold, !pending.flushQueued else { return false }
            pending.flushQueued = true
            return true
        }
        // One flush queued at a time: one per event past the threshold piled up thousands of waiting tasks
        // (and as many small batches) whenever the store was slower than the token endpoint.
        if startFlush { Task { await self.flush() } }
    }

    /// Writes every queued event; events are never dropped on a store error but kept for the next flush.
    public func flush() async {
        await writer.run {
            let batch = self.pending.withLock { pending in
                let batch = pending.events
                pending.events.removeAll(keepingCapacity: true)
                pending.flushQueued = false
                return batch
            }
            // In chunks: one huge batch (after an outage) must not become one statement the store cannot finish.
            var written = 0
            do {
                while written < batch.count {
                    let end = min(written + Self.chunk, batch.count)
                    try await self.store.appendEvents(Array(batch[written..<end]))
                    written = end
                }
            } catch {
                self.pending.withLock { $0.events.insert(contentsOf: batch[written...], at: 0) }
                self.logger.error("audit events could not be written; will retry", ["count": "\(batch.count - written)", "error": "\(error)"])
            }
        }
    }

    static let chunk = 1000

    /// The tenant's events, after writing what is pending.
    public func events(tenantID: String, kind: AuditEvent.Kind?, after: Int64, limit: Int) async throws -> [AuditEvent] {
        await flush()
        return try await store.events(tenantID: tenantID, kind: kind, after: after, limit: limit)
    }
}

/// Runs async jobs one at a time, in the order they were submitted.
public final class SerialWriter: Sendable {
    private let state = Mutex<(busy: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    public func run<T: Sendable>(_ job: @Sendable () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await job()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let runNow = state.withLock { state -> Bool in
                if state.busy {
                    state.waiters.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if runNow { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
