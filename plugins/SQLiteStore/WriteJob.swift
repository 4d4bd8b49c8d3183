import Foundation
import SQLiteNIO
import Synchronization
import VaporCSQLite

/// A queued write: its body, then its result once the batch is committed (or the commit's error).
final class WriteJob: @unchecked Sendable {
    // Touched by the writer thread only, and by `write` before it hands the job over.
    private let body: (SQLiteHandle) throws -> Void
    private var result: Result<Void, any Error> = .success(())
    private let resume: (Result<Void, any Error>) -> Void

    init<T: Sendable>(body: @escaping @Sendable (SQLiteHandle) throws -> T, continuation: CheckedContinuation<T, any Error>) {
        let value = ValueBox<T>()
        self.body = { value.value = try body($0) }
        resume = { outcome in continuation.resume(with: outcome.map { value.value! }) }
    }

    /// Runs the body; false if it failed (its savepoint is then rolled back).
    func run(on handle: SQLiteHandle) -> Bool {
        do {
            try body(handle)
            return true
        } catch {
            result = .failure(error)
            return false
        }
    }

    func finish(committed error: (any Error)?) {
        if let error, case .success = result { result = .failure(error) }
        resume(result)
    }
}

private final class ValueBox<T>: @unchecked Sendable {
    var value: T?
}
