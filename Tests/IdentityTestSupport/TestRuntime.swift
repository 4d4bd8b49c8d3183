import Foundation
import IdentityCore

extension IdentityRuntime {
    /// A runtime for in-process tests: `store` (a `MemoryStore` usually), the test's clock, cheap scrypt
    /// hashes, a fixed master key (`keyByte` repeated), in-process caches.
    public static func forTests(store: any IdentityStore, clock: ManualClock, publicURL: String = "http://id.test", keyByte: UInt8 = 1,
                                lanes: Int = 1, tenantCacheTTL: TimeInterval = 30) throws -> IdentityRuntime {
        let random = SystemRandomSource()
        return try IdentityRuntime(store: store, clock: clock, random: random,
                                   hasher: PasswordHasher(current: ScryptScheme.testing, random: random, lanes: lanes),
                                   masterKey: Array(repeating: keyByte, count: 32), publicURL: publicURL,
                                   revocationCache: InProcessRevocationCache(clock: clock), log: LogSink(.init(label: "test")),
                                   tenantCacheTTL: tenantCacheTTL)
    }
}
