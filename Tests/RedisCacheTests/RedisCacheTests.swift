import Foundation
import NIOCore
import NIOPosix
import Synchronization
import IdentityCore
import MemoryStore
import RedisCache
import StoreTestSupport
import Testing

/// What only Redis does: fall back while it is away or incomplete, and carry invalidations between nodes.
@Suite(.enabled(if: CacheKind.allCases.contains(.redis)))
struct RedisCacheTests {
    @Test func anUnreachableRedisSendsRevocationChecksToTheStore() async throws {
        let store = MemoryStore()
        try await store.migrate()
        let tenant = Fixture.tenant()
        try await store.createTenant(tenant, adminKeyHash: "x", keys: [])
        let revoked = Revocation(tenantID: tenant.id, kind: .session, value: "sid_gone", expiresAt: Date().addingTimeInterval(600))
        try await store.addRevocation(revoked)
        // Nothing listens on port 1.
        let dead = try RedisCache.connect(url: "redis://127.0.0.1:1/0", logger: .init(label: "test"))
        let list = RevocationList(store: store, cache: LayeredRevocationCache(shared: dead.revocations), logger: LogSink(.init(label: "test")))
        #expect(try await list.isRevoked(tenantID: tenant.id, sid: "sid_gone", jti: nil, now: Date()))
        #expect(try await list.isRevoked(tenantID: tenant.id, sid: "sid_live", jti: nil, now: Date()) == false)
        #expect(dead.isHealthy == false)
        await dead.close()
    }

    @Test func anIncompleteListDoesNotAnswerUntilRefilled() async throws {
        let url = try #require(CacheKind.redisURL)
        let cache = try RedisCache.connect(url: url, logger: .init(label: "test"))
        await #expect(throws: (any Error).self) {
            try await cache.revocations.isRevoked(tenantID: "acme", sid: "sid_x", jti: nil, now: Date())
        }
        #expect(cache.isHealthy == false)
        try await cache.refill([Revocation(tenantID: "acme-refill", kind: .session, value: "sid_x", expiresAt: Date().addingTimeInterval(60))])
        #expect(try await cache.revocations.isRevoked(tenantID: "acme-refill", sid: "sid_x", jti: nil, now: Date()))
        #expect(cache.isHealthy)
        await cache.close()
    }

    @Test func aRestartedRedisIsNotTrustedBeforeTheListIsRefilled() async throws {
        let url = try #require(CacheKind.redisURL)
        let key = "identityd:test-complete:" + UUID().uuidString.prefix(8)
        let cache = try RedisCache.connect(url: url + "&pool_size=1", logger: .init(label: "test"), completeKey: key)
        try await cache.refill([])
        #expect(try await cache.revocations.isRevoked(tenantID: "acme-lost", sid: "sid_x", jti: nil, now: Date()) == false)
        // Redis loses its data and the node's connection with it, as in a restart.
        let other = RedisClient(settings: try RedisSettings(url: url), logger: .init(label: "test"))
        let id = try #require(try await cache.client.command("CLIENT", "ID").integerValue)
        _ = try await other.command("DEL", key)
        _ = try await other.command("CLIENT", "KILL", "ID", String(id))
        // The next check goes over a new connection and finds the list gone in the same round trip.
        await #expect(throws: (any Error).self) {
            try await cache.revocations.isRevoked(tenantID: "acme-lost", sid: "sid_x", jti: nil, now: Date())
        }
        #expect(cache.isHealthy == false)
        await cache.close()
        await other.close()
    }

    @Test func aRedisThatLostTheListIsRefilledAndNeverAnswersWithoutIt() async throws {
        let url = try #require(CacheKind.redisURL)
        let key = "identityd:test-complete:" + UUID().uuidString.prefix(8)
        let tenant = "t" + UUID().uuidString.prefix(8).lowercased()
        let revoked = Revocation(tenantID: tenant, kind: .session, value: "sid_gone", expiresAt: Date().addingTimeInterval(60))
        let cache = try RedisCache.connect(url: url, logger: .init(label: "test"), completeKey: key)
        let running = Task { await cache.run(live: { [revoked] }) }
        for _ in 0..<100 where !cache.isHealthy { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try await cache.revocations.isRevoked(tenantID: tenant, sid: "sid_gone", jti: nil, now: Date()))
        // Redis loses the list while the node's connections stay open (FLUSHALL, or a restart between two calls).
        let other = RedisClient(settings: try RedisSettings(url: url), logger: .init(label: "test"))
        _ = try await other.pipeline([["DEL", key], ["DEL", "rev:\(tenant):sid:sid_gone"]])
        // From then on every answer is "revoked" or "ask the store" — never "not revoked" — and the heartbeat
        // soon has the list refilled.
        var refused = 0, restored = false
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            do {
                #expect(try await cache.revocations.isRevoked(tenantID: tenant, sid: "sid_gone", jti: nil, now: Date()))
                if refused > 0 { restored = true; break }
            } catch {
                refused += 1
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(refused > 0 && restored, "refused \(refused), restored \(restored)")
        #expect(try await other.command("EXISTS", "rev:\(tenant):sid:sid_gone") == .integer(1))
        running.cancel()
        await running.value
        await cache.close()
        await other.close()
    }

    @Test func invalidationsReachTheOtherNodesButNotTheSender() async throws {
        let a = try await CacheKind.redisCache(), b = try await CacheKind.redisCache()
        let receivedByA = Mutex<[Invalidation?]>([]), receivedByB = Mutex<[Invalidation?]>([])
        a.bus.start { invalidation in receivedByA.withLock { $0.append(invalidation) } }
        b.bus.start { invalidation in receivedByB.withLock { $0.append(invalidation) } }
        // Both subscribed (each delivers nil once it is).
        for _ in 0..<100 where receivedByA.withLock({ $0.count }) == 0 || receivedByB.withLock({ $0.count }) == 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        let revocation = Revocation(tenantID: "acme", kind: .session, value: "sid_1", expiresAt: Date(timeIntervalSince1970: 2_000_000_000))
        await a.bus.publish(.tenant("acme"))
        await a.bus.publish(.revocations([revocation]))
        for _ in 0..<100 where receivedByB.withLock({ $0.count }) < 3 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(receivedByB.withLock { $0 } == [nil, .tenant("acme"), .revocations([revocation])])
        #expect(receivedByA.withLock { $0 } == [nil])
        await a.close()
        await b.close()
    }

    @Test func manyCallersSharingAConnectionEachGetTheirOwnReplies() async throws {
        let url = try #require(CacheKind.redisURL)
        let prefix = "pipe:" + UUID().uuidString.prefix(8)
        // One connection: every caller's commands are in flight on it together.
        let client = RedisClient(settings: try RedisSettings(url: url + "&pool_size=1"), logger: .init(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<300 {
                group.addTask {
                    let replies = try await client.pipeline([["SET", "\(prefix):\(index)", "v\(index)", "PX", "10000"], ["GET", "\(prefix):\(index)"], ["STRLEN", "\(prefix):\(index)"]])
                    #expect(replies == [.string("OK"), .string("v\(index)"), .integer("v\(index)".utf8.count)])
                }
            }
            try await group.waitForAll()
        }
        await client.close()
    }

    @Test func aConnectionTheServerClosedIsReplaced() async throws {
        let url = try #require(CacheKind.redisURL)
        let client = RedisClient(settings: try RedisSettings(url: url + "&pool_size=1"), logger: .init(label: "test"))
        let killer = RedisClient(settings: try RedisSettings(url: url), logger: .init(label: "test"))
        let id = try #require(try await client.command("CLIENT", "ID").integerValue)
        #expect(try await killer.command("CLIENT", "KILL", "ID", String(id)) == .integer(1))
        #expect(try await client.command("PING") == .string("PONG"))
        let newID = try #require(try await client.command("CLIENT", "ID").integerValue)
        #expect(newID != id)
        await client.close()
        await killer.close()
    }


    @Test func theURLsDatabaseAndPasswordAreUsed() async throws {
        let url = try #require(CacheKind.serverURL)
        let base = url.replacingOccurrences(of: "/0", with: "")
        let key = "db:" + UUID().uuidString.prefix(8)
        let three = RedisClient(settings: try RedisSettings(url: base + "/3?timeout_ms=2000"), logger: .init(label: "test"))
        let zero = RedisClient(settings: try RedisSettings(url: base + "/0?timeout_ms=2000"), logger: .init(label: "test"))
        #expect(try await three.command("SET", key, "3", "PX", "10000") == .string("OK"))
        #expect(try await three.command("GET", key) == .string("3"))
        #expect(try await zero.command("GET", key) == .null)
        // The test server has no password: AUTH is sent, and Redis's refusal fails the call.
        let withPassword = RedisClient(settings: try RedisSettings(url: base.replacingOccurrences(of: "redis://", with: "redis://:secret@") + "/0"), logger: .init(label: "test"))
        await #expect(throws: RedisError.self) { try await withPassword.command("PING") }
        for client in [three, zero, withPassword] { await client.close() }
    }
}

/// Finding 3: arguments with embedded NULs or multi-byte characters reach Redis byte for byte (`strdup` used
/// to stop at the NUL while the length did not, and hiredis read heap memory past the copy).
@Suite(.enabled(if: CacheKind.allCases.contains(.redis)))
struct RedisArgumentTests {
    @Test func argumentsWithNULsAndMultiByteCharactersRoundTripExactly() async throws {
        let url = try #require(CacheKind.redisURL)
        let client = RedisClient(settings: try RedisSettings(url: url), logger: .init(label: "test"))
        let suffix = UUID().uuidString.prefix(8)
        let cases = ["nul:\u{0}after:\(suffix)", "ütf-8:日本語:🔑:\(suffix)", "\u{0}\u{0}:\(suffix)", String(repeating: "\u{0}x", count: 3000) + suffix]
        for key in cases {
            let value = key + "\u{0}value"
            #expect(try await client.command("SET", key, value, "PX", "60000") == .string("OK"))
            #expect(try await client.command("GET", key) == .string(value), "\(key.utf8.count) bytes")
            #expect(try await client.command("STRLEN", key) == .integer(value.utf8.count))
            // The key without what follows its first NUL is another key.
            if let nul = key.firstIndex(of: "\u{0}") {
                #expect(try await client.command("EXISTS", String(key[..<nul])) == .integer(0))
            }
            _ = try await client.command("DEL", key)
        }
        await client.close()
    }
}

/// The tests with a deadline to check, run apart after the others (`make test` runs `SharedServerTests` on
/// their own): in the parallel run, the other suites' hashing and servers could hold the cooperative pool for
/// seconds, and a deadline met late would fail for the wrong reason.
@Suite(.serialized) enum SharedServerTests {
    @Suite struct RedisDeadlineTests {
        @Test func aServerThatDoesNotAnswerFailsTheCallWithinTheTimeout() async throws {
            // Accepts connections and reads what is sent, never answers.
            let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
            let port = try #require(silent.localAddress?.port)
            let client = RedisClient(settings: try RedisSettings(url: "redis://127.0.0.1:\(port)/0?timeout_ms=200"), logger: .init(label: "test"))
            let started = ContinuousClock.now
            await #expect(throws: RedisError.self) { try await client.command("PING") }
            let waited = ContinuousClock.now - started
            #expect(waited >= .milliseconds(190) && waited < .seconds(2), "waited \(waited)")
            #expect(client.isReachable == false)
            await client.close()
            try await silent.close()
        }
    }
}
