// swift-tools-version:6.1
// Benchmarks of the ledger core, kept out of the main package so that its build and tests
// never compile the benchmark framework. Run with ops/bench.
import PackageDescription

let package = Package(
    name: "StockyardBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "stockyard", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Synthetic catalogue and sale-event streams shared by the benchmarks and LedgerMemory.
        .target(
            name: "LedgerWorkload",
            dependencies: [.product(name: "StockyardCore", package: "stockyard")]
        ),
        .executableTarget(
            name: "LedgerBenchmarks",
            dependencies: [
                "LedgerWorkload",
                .product(name: "StockyardCore", package: "stockyard"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/LedgerBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The mixed storm as a plain program, for profilers.
        .executableTarget(
            name: "LedgerStorm",
            dependencies: [
                "LedgerWorkload",
                .product(name: "StockyardCore", package: "stockyard"),
            ]
        ),
        // Reading and authenticating a real-sized Shopify webhook, as a plain program for profilers.
        .executableTarget(
            name: "WebhookRead",
            dependencies: [.product(name: "StockyardChannels", package: "stockyard")]
        ),
        // Resident memory of a ledger with 1M rows and N million live lines.
        .executableTarget(
            name: "LedgerMemory",
            dependencies: [
                "LedgerWorkload",
                .product(name: "StockyardCore", package: "stockyard"),
            ]
        ),
    ]
)
