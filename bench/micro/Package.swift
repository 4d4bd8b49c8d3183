// swift-tools-version:6.1
// Micro-benchmarks of IdentityCore's hot path with ordo-one's benchmark package (allocation counts included):
//   swift package --package-path bench/micro benchmark
// A package of its own, so that the main build and `make test` do not build the benchmark tooling.
import PackageDescription

let package = Package(
    name: "identityd-micro-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "identityd", path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        .executableTarget(
            name: "CoreBenchmarks",
            dependencies: [
                .product(name: "IdentityCore", package: "identityd"),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/CoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
