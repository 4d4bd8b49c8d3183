import Foundation
import IdentityCore
import RedisCache
import Testing

/// The caches a node can run with: its own memory, or Redis shared by every node. Redis runs when
/// `IDENTITY_TEST_REDIS_URL` names a server (as `make test` arranges) and always when `CI=true`, where a
/// missing server fails the suite instead of skipping it.
public enum CacheKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inProcess = "in-process"
    case redis

    public var testDescription: String { rawValue }

    /// The server as `scripts/with-services.sh` exports it.
    public static let serverURL = ProcessInfo.processInfo.environment["IDENTITY_TEST_REDIS_URL"]
    /// The same with a 2 s timeout instead of 500 ms: while every suite starts at once (server processes,
    /// databases, scrypt) a reply on this 2-core machine was twice left unread for 500 ms, failing tests
    /// about behaviour, not latency. The timeout test sets its own.
    public static let redisURL = serverURL.map { $0 + "?timeout_ms=2000" }
    public static var allCases: [CacheKind] { redisURL != nil || TestServers.isCI ? [.inProcess, .redis] : [.inProcess] }

    /// A connected Redis cache with a complete (empty) revocation list.
    public static func redisCache() async throws -> RedisCache {
        guard let url = redisURL else {
            throw TestServerMissing(description: "CI=true but IDENTITY_TEST_REDIS_URL is not set: run the tests through scripts/with-services.sh")
        }
        let cache = try RedisCache.connect(url: url, logger: .init(label: "test"))
        try await cache.refill([])
        return cache
    }

    public func caches() async throws -> (revocations: any RevocationCache, counters: any RateLimitCounters, close: @Sendable () async -> Void) {
        switch self {
        case .inProcess: return (InProcessRevocationCache(), InProcessRateLimitCounters(), {})
        case .redis:
            let cache = try await Self.redisCache()
            return (cache.revocations, cache.counters, { await cache.close() })
        }
    }
}
