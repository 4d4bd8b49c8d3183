import Foundation
import Synchronization

/// Records by tenant, then id, with when and in which invalidation generation they were loaded; at most
/// `capacity` per tenant (emptied when full).
final class RecordCache<Record: Sendable>: Sendable {
    private let entries = Mutex<[String: [String: (record: Record, loadedAt: Date, generation: UInt64)]]>([:])
    static var capacity: Int { 10_000 }

    func record(tenantID: String, id: String, now: Date, ttl: TimeInterval, generation: UInt64) -> Record? {
        guard let hit = entries.withLock({ $0[tenantID]?[id] }), now.timeIntervalSince(hit.loadedAt) < ttl, hit.generation == generation else {
            return nil
        }
        return hit.record
    }

    /// Keeps `record` unless the generation moved on since it was loaded (`current` is read under this lock).
    func store(_ record: Record, tenantID: String, id: String, loadedAt: Date, generation: UInt64, current: () -> UInt64) {
        entries.withLock { entries in
            guard current() == generation else { return }
            if entries[tenantID, default: [:]].count >= Self.capacity { entries[tenantID] = [:] }
            entries[tenantID, default: [:]][id] = (record, loadedAt, generation)
        }
    }

    func drop(_ tenantID: String?) {
        entries.withLock { entries in
            if let tenantID { entries[tenantID] = nil } else { entries.removeAll() }
        }
    }
}
