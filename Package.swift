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
        // The core and the channel readers, for the benchmark package.
        .library(name: "StockyardCore", targets: ["StockyardCore"]),
        .library(name: "StockyardChannels", targets: ["StockyardChannels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
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

        // Outbound HTTP over libcurl.
        .target(
            name: "StockyardHTTPClient",
            dependencies: ["CCurl", "CStockyardCurlShim"],
            swiftSettings: swiftSettings
        ),

        // Zoho Inventory: OAuth, adjustments, items and locations over libcurl; call limits.
        .target(
            name: "StockyardZoho",
            dependencies: ["StockyardHTTPClient"],
            swiftSettings: swiftSettings
        ),

        // A stand-in for Zoho over real HTTP, for running without credentials and for tests.
        .target(
            name: "StockyardZohoSandbox",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // A stand-in for eBay's and Etsy's APIs over real HTTP: tokens, order and receipt look-ups,
        // signed notifications, limits and faults.
        .target(
            name: "StockyardMarketplaceSandbox",
            dependencies: [
                "StockyardChannels",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
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

        // HTTP API, group commit, metrics, service wiring.
        .target(
            name: "StockyardServer",
            dependencies: [
                "StockyardCore",
                "StockyardChannels",
                "StockyardRedis",
                "StockyardHTTPClient",
                "StockyardZoho",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
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
                "StockyardZoho",
                "StockyardZohoSandbox",
                "StockyardMarketplaceSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
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
                "StockyardServer",
                "StockyardHTTPClient",
                "StockyardZoho",
                "StockyardZohoSandbox",
                "StockyardMarketplaceSandbox",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
