import Foundation
import IdentityCore
import Logging
import Synchronization

/// The revocation list in Redis: one key per revoked `sid` or `jti`, expiring with the last access token it
/// covers (`SET rev:{tenant}:{sid|jti}:{value} 1 PX {ms left}`).
public final class RedisRevocationCache: RevocationCache {
    let client: RedisClient
    /// The key a refill sets (see `RedisCache`).
    let completeKey: String
    /// Whether Redis holds every live revocation, and how often it was marked incomplete.
    private let state = Mutex((complete: false, generation: 0))

    init(client: RedisClient, completeKey: String) {
        self.client = client
        self.completeKey = completeKey
    }

    var isComplete: Bool { state.withLock { $0.complete } }
    var generation: Int { state.withLock { $0.generation } }

    func markIncomplete() {
        state.withLock { state in
            state.complete = false
            state.generation += 1
        }
    }

    func markComplete(ifUnchangedSince generation: Int) {
        state.withLock { state in
            if state.generation == generation { state.complete = true }
        }
    }

    static func key(_ tenantID: String, _ kind: Revocation.Kind, _ value: String) -> String {
        "rev:\(tenantID):\(kind.rawValue):\(value)"
    }

    public func add(_ revocations: [Revocation]) async throws {
        let now = Date()
        let commands = revocations.compactMap { revocation -> [String]? in
            let milliseconds = Int(revocation.expiresAt.timeIntervalSince(now) * 1000)
            guard milliseconds > 0 else { return nil }
            return ["SET", Self.key(revocation.tenantID, revocation.kind, revocation.value), "1", "PX", String(milliseconds)]
        }
        var start = commands.startIndex
        do {
            while start < commands.endIndex {
                let end = min(start + 500, commands.endIndex)
                for reply in try await client.pipeline(Array(commands[start..<end])) {
                    if case .error(let message) = reply { throw RedisError("redis: \(message)") }
                }
                start = end
            }
        } catch {
            // Redis may lack these now; a refill puts them there from the store.
            markIncomplete()
            throw error
        }
    }

    public func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool {
        guard isComplete else { throw RedisError("the Redis revocation list is being refilled") }
        let keys = [sid.map { Self.key(tenantID, .session, $0) }, jti.map { Self.key(tenantID, .token, $0) }].compactMap { $0 }
        guard !keys.isEmpty else { return false }
        // The keys, then whether Redis still holds the list: if it does after the keys were read, it did when
        // they were (a restart or flush takes the marker with the entries).
        let replies = try await client.pipeline([["EXISTS"] + keys, ["EXISTS", completeKey]])
        guard let count = replies[0].integerValue, let listKept = replies[1].integerValue else { throw RedisError("redis: unexpected reply to EXISTS") }
        guard listKept == 1 else {
            markIncomplete()
            throw RedisError("redis lost the revocation list; it is being refilled")
        }
        return count > 0
    }
}
