import Foundation
@testable import IdentityCore
import Synchronization
import Testing

/// A slow stand-in for scrypt that counts its runs.
private final class CountingCheck: Sendable {
    let runs = Mutex(0)
    let right = Array(repeating: UInt8(1), count: 32)

    func callAsFunction(_ digest: [UInt8]) async -> Bool {
        runs.withLock { $0 += 1 }
        try? await Task.sleep(for: .milliseconds(50))
        return digest == right
    }
}

@Suite struct VerifiedSecretCacheTests {
    /// Twenty requests with the same secret reach a node whose cache is cold: scrypt runs once, not twenty
    /// times; a wrong secret is never remembered.
    @Test func concurrentChecksOfOneSecretShareOneHashRun() async throws {
        let cache = VerifiedSecretCache()
        let hash = CountingCheck()
        let right = hash.right, wrong = Array(repeating: UInt8(2), count: 32)
        let answers = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask { (try? await cache.verify(storedHash: "$scrypt$stored", secretDigest: right) { await hash(right) }) ?? false }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(answers == Array(repeating: true, count: 20))
        #expect(hash.runs.withLock { $0 } == 1)
        #expect(try await cache.verify(storedHash: "$scrypt$stored", secretDigest: right) { await hash(right) })
        #expect(hash.runs.withLock { $0 } == 1)
        #expect(!(try await cache.verify(storedHash: "$scrypt$stored", secretDigest: wrong) { await hash(wrong) }))
        #expect(!(try await cache.verify(storedHash: "$scrypt$stored", secretDigest: wrong) { await hash(wrong) }))
        #expect(hash.runs.withLock { $0 } == 3)
    }
}
