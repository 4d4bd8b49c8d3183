// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "identityd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "identityd", targets: ["identityd"]),
        .library(name: "IdentityCore", targets: ["IdentityCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // The domain: no networking, no SQL, no Hummingbird.
        .target(
            name: "IdentityCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "IdentityHTTP",
            dependencies: [
                "IdentityCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            resources: [
                .embedInCode("Resources/openapi.yaml"),
                .embedInCode("Resources/pages/layout.mustache"),
                .embedInCode("Resources/pages/login.mustache"),
                .embedInCode("Resources/pages/otp.mustache"),
                .embedInCode("Resources/pages/consent.mustache"),
                .embedInCode("Resources/pages/error.mustache"),
                .embedInCode("Resources/pages/logout.mustache"),
                .embedInCode("Resources/pages/signed-out.mustache"),
                .embedInCode("Resources/pages/identityd.css"),
            ]
        ),
        .executableTarget(
            name: "identityd",
            dependencies: [
                "IdentityCore",
                "IdentityHTTP",
                "SQLiteStore",
                "PostgresStore",
                "RedisCache",
                "Argon2",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // The alert webhooks' HTTP client.
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // Bootstrapped here only: the core and the HTTP layer speak swift-metrics.
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "SQLiteStore",
            dependencies: [
                "IdentityCore",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ],
            path: "plugins/SQLiteStore"
        ),
        .target(
            name: "PostgresStore",
            dependencies: [
                "IdentityCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "plugins/PostgresStore"
        ),
        // hiredis from Debian's libhiredis-dev: there is no Swift Redis client here.
        .systemLibrary(
            name: "CHiredis",
            path: "plugins/CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // libargon2 from Debian's libargon2-dev, for Argon2id password hashes.
        .systemLibrary(
            name: "CArgon2",
            path: "plugins/CArgon2",
            pkgConfig: "libargon2",
            providers: [.apt(["libargon2-dev"])]
        ),
        .target(
            name: "Argon2",
            dependencies: ["IdentityCore", "CArgon2"],
            path: "plugins/Argon2"
        ),
        .target(
            name: "RedisCache",
            dependencies: [
                "IdentityCore",
                "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "plugins/RedisCache"
        ),
        .target(
            name: "MemoryStore",
            dependencies: ["IdentityCore"],
            path: "plugins/MemoryStore"
        ),
        // What the unit test targets share: a clock the test moves by hand.
        .target(
            name: "IdentityTestSupport",
            dependencies: ["IdentityCore", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "CryptoExtras", package: "swift-crypto")],
            path: "Tests/IdentityTestSupport"
        ),
        .testTarget(
            name: "IdentityCoreTests",
            dependencies: ["IdentityCore", "MemoryStore", "IdentityTestSupport", .product(name: "JWTKit", package: "jwt-kit"),
                           .product(name: "MetricsTestKit", package: "swift-metrics")]
        ),
        // The HTTP layer in process: HummingbirdTesting's router over the memory store and a manual clock.
        .testTarget(
            name: "IdentityHTTPTests",
            dependencies: [
                "IdentityHTTP", "IdentityCore", "MemoryStore", "IdentityTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        // The test servers scripts/with-services.sh starts (PostgreSQL, Redis) and the programs tests spawn.
        .target(name: "TestServices", path: "Tests/TestServices"),
        // Every store and cache plugin as the conformance suites run them, with fixtures.
        .target(
            name: "StoreTestSupport",
            dependencies: [
                "IdentityCore", "MemoryStore", "SQLiteStore", "PostgresStore", "RedisCache", "TestServices",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/StoreTestSupport"
        ),
        // One suite over every store (memory, SQLite, PostgreSQL) and every cache (in-process, Redis).
        .testTarget(
            name: "StoreConformanceTests",
            dependencies: ["IdentityCore", "StoreTestSupport", "TestServices"]
        ),
        .testTarget(
            name: "Argon2Tests",
            dependencies: ["Argon2", "IdentityCore"]
        ),
        .testTarget(
            name: "SQLiteStoreTests",
            dependencies: ["SQLiteStore"]
        ),
        .testTarget(
            name: "PostgresStoreTests",
            dependencies: ["IdentityCore", "PostgresStore", "StoreTestSupport", "TestServices", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        .testTarget(
            name: "RedisCacheTests",
            dependencies: [
                "IdentityCore", "MemoryStore", "RedisCache", "StoreTestSupport", "TestServices",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "TestServices",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ]
)
