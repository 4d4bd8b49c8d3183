import Foundation
import Synchronization

/// Remembers, per node, which client secrets have already passed the password-hash check, as their SHA-256,
/// so that a client authenticating thousands of times a second pays for the hash once. Keyed by the stored
/// hash, so a secret change (a new hash) forgets the old secret. Concurrent checks of one secret share one
/// hash run: a node that starts under load would otherwise hash the same secret once per waiting request.
final class VerifiedSecretCache: Sendable {
    private struct Check: Hashable {
        let storedHash: String
        let secretDigest: [UInt8]
    }

    private let state = Mutex<(verified: [String: [UInt8]], running: [Check: Task<Bool, any Error>])>(([:], [:]))
    private let limit = 10_000

    /// Whether the secret with `secretDigest` is remembered to match `storedHash`.
    func isKnown(storedHash: String, secretDigest: [UInt8]) -> Bool {
        state.withLock { state in state.verified[storedHash].map { ConstantTime.equal($0, secretDigest) } ?? false }
    }

    /// Whether the secret with `secretDigest` matches `storedHash`: from memory, or by `check` (run once for
    /// all the callers asking at the same time). Rethrows what `check` throws (a full hashing queue).
    func verify(storedHash: String, secretDigest: [UInt8], check: @escaping @Sendable () async throws -> Bool) async throws -> Bool {
        let key = Check(storedHash: storedHash, secretDigest: secretDigest)
        let task = state.withLock { state -> Task<Bool, any Error>? in
            if let known = state.verified[storedHash], ConstantTime.equal(known, secretDigest) { return nil }
            if let running = state.running[key] { return running }
            let task = Task { try await check() }
            state.running[key] = task
            return task
        }
        guard let task else { return true }
        let outcome = await task.result
        state.withLock { state in
            guard state.running[key] != nil else { return }
            state.running[key] = nil
            if case .success(true) = outcome {
                if state.verified.count >= limit { state.verified.removeAll() }
                state.verified[storedHash] = secretDigest
            }
        }
        return try outcome.get()
    }
}
