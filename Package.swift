// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "stockyard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stockyard", targets: ["stockyard"]),
        .executable(name: "stockyard-dev", targets: ["stockyard-dev"]),
        // The core and the channel readers, for the benchmark package.
        .library(name: "StockyardCore", targets: ["StockyardCore"]),
        .library(name: "StockyardChannels", targets: ["StockyardChannels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // Pure core: ledger, listing map, allocation, netting. No I/O.
        .target(
            name: "StockyardCore",
            dependencies: ["CStockyardPrefetch"],
            // The core is single-threaded by contract (one writer, readers behind a lock), so the
            // runtime's dynamic exclusivity checks only cost time on the hot path.
            swiftSettings: swiftSettings + [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
        ),

        // The prefetch hint the core's batch apply uses (a compiler builtin, no library).
        .target(name: "CStockyardPrefetch"),

        // C libraries.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "CStockyardCurlShim", dependencies: ["CCurl"]),
        .target(name: "CStockyardRedisShim", dependencies: ["CHiredis"]),

        // Redis persistence over hiredis.
        .target(
            name: "StockyardRedis",
            dependencies: [
                "CHiredis",
                "CStockyardRedisShim",
                "StockyardCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // What every API client shares: libcurl, worker threads, the call budget, the token
        // keeper, one error type, Retry-After; their history kept in Redis.
        .target(
            name: "StockyardOutbound",
            dependencies: [
                "CCurl",
                "CStockyardCurlShim",
                "StockyardRedis",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // The engine: the group-commit writer and the state it stages with each commit (delivery
        // ids, dead letters, catalogue, Zoho outbox, look-up queue). Knows Redis, not HTTP.
        .target(
            name: "StockyardEngine",
            dependencies: [
                "StockyardCore",
                "StockyardChannels",
                "StockyardRedis",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // Zoho Inventory, all of it: the API client, the call budget and token as configurations
        // of the outbound layer, batches, the sync service, reconciliation, metrics.
        .target(
            name: "StockyardZoho",
            dependencies: [
                "StockyardCore",
                "StockyardChannels",
                "StockyardRedis",
                "StockyardEngine",
                "StockyardOutbound",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // The marketplaces' APIs: eBay and Etsy clients over the outbound layer, order look-ups,
        // eBay's notification key cache.
        .target(
            name: "StockyardMarketplaces",
            dependencies: [
                "StockyardCore",
                "StockyardChannels",
                "StockyardRedis",
                "StockyardEngine",
                "StockyardOutbound",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // Development servers, out of the production binary: stand-ins for Zoho (token endpoint,
        // adjustments, items, locations, limits and faults) and for eBay's and Etsy's APIs
        // (tokens, look-ups, signed notifications, limits and faults), over real HTTP.
        .target(
            name: "StockyardDevServers",
            dependencies: [
                "StockyardChannels",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // Channel payloads and signatures: webhook bodies in, sale events out. No I/O.
        .target(
            name: "StockyardChannels",
            dependencies: [
                "StockyardCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // The HTTP application: route collections, middleware, configuration, wiring, logging.
        .target(
            name: "StockyardServer",
            dependencies: [
                "StockyardCore",
                "StockyardChannels",
                "StockyardRedis",
                "StockyardEngine",
                "StockyardOutbound",
                "StockyardZoho",
                "StockyardMarketplaces",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "stockyard",
            dependencies: [
                "StockyardServer",
                "StockyardChannels",
                "StockyardOutbound",
                "StockyardZoho",
                "StockyardMarketplaces",
                "StockyardRedis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // The development servers' executable, for ops/run, the load tests and the tests.
        .executableTarget(
            name: "stockyard-dev",
            dependencies: [
                "StockyardDevServers",
                "StockyardServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "StockyardCoreTests",
            dependencies: [
                "StockyardCore",
                "StockyardChannels",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StockyardIntegrationTests",
            dependencies: [
                "StockyardCore",
                "StockyardChannels",
                "StockyardRedis",
                "StockyardEngine",
                "StockyardMarketplaces",
                "StockyardServer",
                "StockyardOutbound",
                "StockyardZoho",
                "StockyardDevServers",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
