import Foundation
import IdentityCore
import Logging
import Synchronization
import Testing

/// An event store that takes its time over every write and counts them.
private final class SlowEventStore: EventStore {
    let writes = Mutex<[Int]>([])

    func appendEvents(_ events: [AuditEvent], batch: String) async throws {
        try await Task.sleep(for: .milliseconds(20))
        writes.withLock { $0.append(events.count) }
    }

    func events(tenantID: String, kind: AuditEvent.Kind?, after: Int64, limit: Int) async throws -> [AuditEvent] { [] }
}

@Suite struct AuditLogTests {
    /// Events are written in batches of at least the threshold (except the last, flushed on demand), each
    /// taking everything pending, even while the store is slower than the events arrive. (The batch is also
    /// queued once, not once per event past the threshold: that piled up waiting tasks on PostgreSQL — seen
    /// in the benchmark's memory, 173 MB against 52 MB, not observable from here.)
    @Test func eventsPastTheThresholdQueueOneFlushNotOneEach() async throws {
        let store = SlowEventStore()
        let log = AuditLog(store: store, logger: LogSink(Logger(label: "test")), flushThreshold: 50)
        // About one event per millisecond: fewer than the threshold arrive during one 20 ms write.
        for n in 0..<600 {
            log.record(AuditEvent(tenantID: "acme", kind: .tokenIssued, time: Date(), clientID: "c\(n)"))
            try await Task.sleep(for: .milliseconds(1))
        }
        await log.flush()
        let writes = store.writes.withLock { $0 }
        #expect(writes.reduce(0, +) == 600)
        #expect(writes.dropLast().allSatisfy { $0 >= 50 }, "batches: \(writes)")
    }
}

/// An event store whose writes fail while `failing` is set (after committing them when `commitBeforeFailing`,
/// as a write that missed its deadline can) and wait while `held` is set. Like PostgreSQL, it writes a batch
/// name once.
final class ControlledEventStore: EventStore {
    let failing = Mutex(false)
    let commitBeforeFailing = Mutex(false)
    let held = Mutex(false)
    let written = Mutex<[AuditEvent]>([])
    let names = Mutex<Set<String>>([])
    let attempts = Mutex(0)

    func appendEvents(_ events: [AuditEvent], batch: String) async throws {
        attempts.withLock { $0 += 1 }
        while held.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        let failing = failing.withLock { $0 }
        if failing && !commitBeforeFailing.withLock({ $0 }) { throw StoreError.unavailable("test: down") }
        if names.withLock({ $0.insert(batch).inserted }) { written.withLock { $0 += events } }
        if failing { throw StoreError.unavailable("test: no answer in time") }
    }

    func events(tenantID: String, kind: AuditEvent.Kind?, after: Int64, limit: Int) async throws -> [AuditEvent] { [] }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add() { count.withLock { $0 += 1 } }
}

extension AuditLogTests {
    static func event(_ n: Int) -> AuditEvent { AuditEvent(tenantID: "acme", kind: .tokenIssued, time: Date(), clientID: "c\(n)") }

    static func log(_ store: ControlledEventStore, capacity: Int, timeout: Duration) -> AuditLog {
        AuditLog(store: store, logger: LogSink(Logger(label: "test")), flushThreshold: 10, capacity: capacity, admissionTimeout: timeout)
    }

    /// A full queue holds requests back while the writer is stuck, and lets them in once it has made room;
    /// nothing is dropped.
    @Test func aFullQueueHoldsRequestsUntilTheWriterMakesRoom() async throws {
        let store = ControlledEventStore()
        store.held.withLock { $0 = true }
        let log = Self.log(store, capacity: 50, timeout: .seconds(30))
        try await log.admit()
        for n in 0..<60 { log.record(Self.event(n)) }
        let admitted = Counter()
        let requests = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<5 { group.addTask { try await log.admit(); admitted.add() } }
                try await group.waitForAll()
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(admitted.value == 0)
        #expect(log.queued == 60)
        store.held.withLock { $0 = false }
        try await requests.value
        #expect(admitted.value == 5)
        await log.flush()
        #expect(store.written.withLock { $0.map(\.clientID) } == (0..<60).map { "c\($0)" })
    }

    /// While the store fails, a full queue answers requests with 503 after the admission timeout, keeps every
    /// event, retries only when asked (not at every new event), and writes them all once the store is back.
    @Test func aFullQueueThatCannotBeWrittenRefusesRequestsAndKeepsItsEvents() async throws {
        let store = ControlledEventStore()
        store.failing.withLock { $0 = true }
        let log = Self.log(store, capacity: 20, timeout: .milliseconds(100))
        for n in 0..<20 { log.record(Self.event(n)) }
        await log.flush()
        try await Task.sleep(for: .milliseconds(50))  // the flush the tenth event queued has run too
        let attempts = store.attempts.withLock { $0 }
        for n in 20..<40 { log.record(Self.event(n)) }
        let start = ContinuousClock.now
        await #expect(throws: OAuthError.temporarilyUnavailable) { try await log.admit() }
        #expect(ContinuousClock.now - start >= .milliseconds(100))
        try await Task.sleep(for: .milliseconds(50))
        #expect(store.attempts.withLock { $0 } == attempts, "events recorded while failing started writes of their own")
        #expect(log.queued == 40)
        store.failing.withLock { $0 = false }
        await log.flush()
        #expect(log.queued == 0)
        #expect(store.written.withLock { $0.map(\.clientID) } == (0..<40).map { "c\($0)" })
        try await log.admit()
    }

    /// On shutdown the queue is retried through a store's failures until it is written, within the timeout;
    /// past it, what is left is counted (and logged) as lost.
    @Test func drainRetriesAFailingStoreWithinItsTimeout() async throws {
        let store = ControlledEventStore()
        store.failing.withLock { $0 = true }
        let log = Self.log(store, capacity: 100, timeout: .seconds(1))
        for n in 0..<30 { log.record(Self.event(n)) }
        #expect(await log.drain(timeout: .milliseconds(300)) == 30)
        Task {
            try await Task.sleep(for: .milliseconds(300))
            store.failing.withLock { $0 = false }
        }
        #expect(await log.drain(timeout: .seconds(10)) == 0)
        #expect(store.written.withLock { $0.count } == 30)
        #expect(store.attempts.withLock { $0 } > 2)
    }

    /// A chunk whose write failed after the store had committed it is written again under the same name, so
    /// it is stored once, and before the events queued after it.
    @Test func aChunkRetriedAfterAnUnconfirmedWriteIsStoredOnce() async throws {
        let store = ControlledEventStore()
        store.failing.withLock { $0 = true }
        store.commitBeforeFailing.withLock { $0 = true }
        let log = Self.log(store, capacity: 100, timeout: .seconds(1))
        for n in 0..<5 { log.record(Self.event(n)) }
        await log.flush()
        #expect(log.queued == 5)
        for n in 5..<8 { log.record(Self.event(n)) }
        store.failing.withLock { $0 = false }
        await log.flush()
        #expect(log.queued == 0)
        #expect(store.written.withLock { $0.map(\.clientID) } == (0..<8).map { "c\($0)" })
    }
}

/// Like PostgreSQL's jsonb with a NUL: refuses, as a whole, any batch holding an event whose detail is
/// "poison" (the store answers, and would answer the same to every retry).
final class PoisonRefusingEventStore: EventStore {
    let written = Mutex<[AuditEvent]>([])
    let writes = Mutex(0)
    let down = Mutex(false)

    func appendEvents(_ events: [AuditEvent], batch: String) async throws {
        writes.withLock { $0 += 1 }
        if down.withLock({ $0 }) { throw StoreError.unavailable("test: down") }
        if events.contains(where: { $0.detail == "poison" }) { throw StoreError.rejected("test: invalid byte sequence") }
        written.withLock { $0 += events }
    }

    func events(tenantID: String, kind: AuditEvent.Kind?, after: Int64, limit: Int) async throws -> [AuditEvent] { [] }
}

extension AuditLogTests {
    /// Finding 1: one event the store refuses failed its batch, which was retried first forever: no audit
    /// event was written again and, the queue full, every token request got 503. Now a refused batch is
    /// bisected down to the bad event, which alone is dropped (logged by kind and tenant); the others are
    /// written, in order, at once.
    @Test func aBatchTheStoreRefusesIsBisectedAndOnlyTheBadEventDropped() async throws {
        let store = PoisonRefusingEventStore()
        let log = AuditLog(store: store, logger: LogSink(Logger(label: "test")), flushThreshold: 10_000)
        for n in 0..<100 {
            log.record(AuditEvent(tenantID: "acme", kind: .clientAuthFailed, time: Date(), detail: n == 37 ? "poison" : "n\(n)"))
        }
        await log.flush()
        let written = store.written.withLock { $0 }
        #expect(written.count == 99)
        #expect(written.map(\.detail) == (0..<100).filter { $0 != 37 }.map { "n\($0)" })
        #expect(log.queued == 0)
        #expect(store.writes.withLock { $0 } <= 2 * 7 + 1)  // log2(100) levels of halves
        // Later events are not held back.
        log.record(AuditEvent(tenantID: "acme", kind: .tokenIssued, time: Date(), detail: "after"))
        await log.flush()
        #expect(store.written.withLock { $0 }.last?.detail == "after")
    }

    /// A store that is down drops nothing while bisecting: what was not written waits for the next flush.
    @Test func aStoreGoingDownDuringABisectionKeepsEveryUnwrittenEvent() async throws {
        let store = PoisonRefusingEventStore()
        let log = AuditLog(store: store, logger: LogSink(Logger(label: "test")), flushThreshold: 10_000)
        for n in 0..<10 { log.record(AuditEvent(tenantID: "acme", kind: .tokenIssued, time: Date(), detail: n == 0 ? "poison" : "n\(n)")) }
        store.down.withLock { $0 = true }
        await log.flush()
        #expect(log.queued == 10)
        store.down.withLock { $0 = false }
        await log.flush()
        #expect(store.written.withLock { $0 }.map(\.detail) == (1..<10).map { "n\($0)" })
        #expect(log.queued == 0)
    }
}
