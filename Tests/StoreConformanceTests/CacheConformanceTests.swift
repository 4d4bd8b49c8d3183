import Foundation
import IdentityCore
import MemoryStore
import NIOCore
import NIOPosix
import RedisCache
import Synchronization
import StoreTestSupport
import Testing
import TestServices

/// One suite for the revocation cache and the rate-limit counters, whatever holds them.
@Suite struct CacheConformanceTests {
    /// A tenant of its own per test, so that tests sharing one Redis do not see each other's keys.
    let tenant = "t" + UUID().uuidString.prefix(8).lowercased()

    @Test(arguments: CacheKind.allCases)
    func revokedSessionsAndTokensAreSeenPerTenant(kind: CacheKind) async throws {
        let (cache, _, close) = try await kind.caches()
        let now = Date(), later = now.addingTimeInterval(600)
        try await cache.add([Revocation(tenantID: tenant, kind: .session, value: "sid_1", expiresAt: later),
                             Revocation(tenantID: tenant, kind: .token, value: "jti_1", expiresAt: later)])
        #expect(try await cache.isRevoked(tenantID: tenant, sid: "sid_1", jti: nil, now: now))
        #expect(try await cache.isRevoked(tenantID: tenant, sid: "sid_other", jti: "jti_1", now: now))
        #expect(try await cache.isRevoked(tenantID: tenant, sid: "sid_2", jti: "jti_2", now: now) == false)
        #expect(try await cache.isRevoked(tenantID: tenant, sid: nil, jti: nil, now: now) == false)
        // The same identifiers in another tenant are not revoked.
        #expect(try await cache.isRevoked(tenantID: tenant + "x", sid: "sid_1", jti: "jti_1", now: now) == false)
        // A value that looks like a key of another kind does not collide (sid vs jti).
        #expect(try await cache.isRevoked(tenantID: tenant, sid: "jti_1", jti: "sid_1", now: now) == false)
        await close()
    }

    @Test(arguments: CacheKind.allCases)
    func entriesExpireWithTheTokensTheyCover(kind: CacheKind) async throws {
        let (cache, _, close) = try await kind.caches()
        // Long enough that a loaded machine still finds the key before it expires (0.4 s was not).
        let expiresAt = Date().addingTimeInterval(2)
        try await cache.add([Revocation(tenantID: tenant, kind: .session, value: "sid_short", expiresAt: expiresAt),
                             Revocation(tenantID: tenant, kind: .session, value: "sid_past", expiresAt: Date().addingTimeInterval(-1))])
        #expect(try await cache.isRevoked(tenantID: tenant, sid: "sid_short", jti: nil, now: Date()))
        #expect(try await cache.isRevoked(tenantID: tenant, sid: "sid_past", jti: nil, now: Date()) == false)
        if kind == .redis, let url = CacheKind.redisURL {
            // The key's TTL is the remaining lifetime, not more. (Asked of an entry of its own that lives long
            // enough to outlast a stall of the loaded machine: `sid_short` was once gone before this asked.)
            try await cache.add([Revocation(tenantID: tenant, kind: .session, value: "sid_ttl", expiresAt: Date().addingTimeInterval(30))])
            let client = RedisClient(settings: try RedisSettings(url: url), logger: .init(label: "test"))
            let ttl = try await client.command("PTTL", "rev:\(tenant):sid:sid_ttl").integerValue ?? -1
            #expect(ttl > 0 && ttl <= 30_000, "PTTL \(ttl)")
            await client.close()
        }
        try await Task.sleep(for: .milliseconds(2300))
        #expect(try await cache.isRevoked(tenantID: tenant, sid: "sid_short", jti: nil, now: Date()) == false)
        await close()
    }

    @Test(arguments: CacheKind.allCases)
    func countersCountWithinTheirWindowAndStartOver(kind: CacheKind) async throws {
        let (_, counters, close) = try await kind.caches()
        let key = "rl:\(tenant):client:web"
        // Redis connections open on first use, one per event loop: open them before the window starts. The
        // window is long enough that three calls fit in it while every suite runs at once (500 ms was not).
        for _ in 0..<4 { _ = try await counters.increment(key + ":warm-up", window: .seconds(5)) }
        var counts: [Int] = []
        for _ in 0..<3 { counts.append(try await counters.increment(key, window: .seconds(2)).count) }
        #expect(counts == [1, 2, 3])
        let other = try await counters.increment(key + "2", window: .seconds(5))
        #expect(other.count == 1)
        #expect(other.resetsIn <= .seconds(5) && other.resetsIn > .seconds(4))
        try await Task.sleep(for: .milliseconds(2300))
        #expect(try await counters.increment(key, window: .seconds(2)).count == 1)
        await close()
    }

    @Test(arguments: CacheKind.allCases)
    func locksLastTheirDurationAndCanBeRemoved(kind: CacheKind) async throws {
        let (_, counters, close) = try await kind.caches()
        let key = "ll:\(tenant):alice"
        #expect(try await counters.lockRemaining(key) == nil)
        try await counters.lock(key, for: .seconds(30))
        let remaining = try #require(try await counters.lockRemaining(key))
        #expect(remaining > .seconds(29) && remaining <= .seconds(30))
        try await counters.remove(key)
        #expect(try await counters.lockRemaining(key) == nil)
        try await counters.lock(key, for: .milliseconds(200))
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await counters.lockRemaining(key) == nil)
        await close()
    }

    @Test(arguments: CacheKind.allCases)
    func concurrentIncrementsAreAllCounted(kind: CacheKind) async throws {
        let (_, counters, close) = try await kind.caches()
        let key = "rl:\(tenant):ip:127.0.0.1"
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<64 { group.addTask { try await counters.increment(key, window: .seconds(10)).count } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(counts.sorted() == Array(1...64))
        await close()
    }
    /// A DPoP proof sent to several nodes at once (or to one node several times) is accepted by exactly one:
    /// two nodes are two connections to one Redis; in process, two callers of one node's cache. Other proofs
    /// are not affected, and a proof's entry lasts its ttl and no longer.
    @Test(arguments: CacheKind.allCases)
    func aDPoPProofIsAcceptedOnceAcrossNodes(kind: CacheKind) async throws {
        let nodes: [any DPoPReplayCache], close: @Sendable () async -> Void
        switch kind {
        case .inProcess:
            let shared = InProcessDPoPReplayCache()
            (nodes, close) = ([shared, shared], {})
        case .redis:
            let a = try await CacheKind.redisCache(), b = try await CacheKind.redisCache()
            (nodes, close) = ([a.dpopReplays, b.dpopReplays], { await a.close(); await b.close() })
        }
        let key = "dpop:\(tenant):proof-1"
        let accepted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<32 { group.addTask { try await nodes[i % 2].firstUse(key, ttl: .seconds(30)) } }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(accepted == 1)
        #expect(try await nodes[1].firstUse("dpop:\(tenant):proof-2", ttl: .seconds(30)))
        #expect(try await nodes[0].firstUse("dpop:\(tenant):proof-2", ttl: .seconds(30)) == false)
        #expect(try await nodes[0].firstUse("dpop:\(tenant):short", ttl: .milliseconds(300)))
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await nodes[1].firstUse("dpop:\(tenant):short", ttl: .milliseconds(300)), "the entry outlived its ttl")
        await close()
    }

    /// The in-process cache is bounded: past its capacity the oldest entries go, the newest stay.
    @Test func theInProcessReplayCacheIsBounded() async throws {
        let cache = InProcessDPoPReplayCache(capacity: 100)
        for i in 0..<1_000 { #expect(try await cache.firstUse("k\(i)", ttl: .seconds(60))) }
        #expect(try await cache.firstUse("k999", ttl: .seconds(60)) == false)
        #expect(try await cache.firstUse("k0", ttl: .seconds(60)), "the oldest entry should have made room")
    }
}
