import Foundation
import IdentityCore
import Logging
import PostgresNIO
import Synchronization

extension PostgresStore {
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
}
