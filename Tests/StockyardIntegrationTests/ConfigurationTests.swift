import Foundation
import Testing

/// A setting that cannot be used stops the service at start, naming the setting.
@Suite struct ConfigurationTests {
    /// Runs `stockyard serve` with `environment` until it stops (or for at most 20 seconds).
    static func start(_ environment: [String: String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = ServiceProcess.executable
        process.arguments = ["serve"]
        var base = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("STOCKYARD_") }
        base["STOCKYARD_ADMIN_TOKEN"] = ServiceProcess.adminToken
        base["STOCKYARD_PORT"] = "0"
        for (key, value) in environment { base[key] = value }
        process.environment = base
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // A setting that is wrongly accepted leaves the service running: stop it so the test fails
        // instead of waiting for ever.
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 20, execute: watchdog)
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        watchdog.cancel()
        return (process.terminationStatus, output)
    }

    @Test(arguments: [
        (["STOCKYARD_PORT": "http"], "STOCKYARD_PORT"),
        (["STOCKYARD_REDIS_URL": "http://localhost"], "STOCKYARD_REDIS_URL"),
        (["STOCKYARD_REDIS_URL": "redis://localhost:99999"], "STOCKYARD_REDIS_URL"),
        (["STOCKYARD_ADMIN_TOKEN": ""], "STOCKYARD_ADMIN_TOKEN"),
        (["STOCKYARD_ADMIN_TOKEN": "short"], "STOCKYARD_ADMIN_TOKEN"),
        (["STOCKYARD_LOG_LEVEL": "loud"], "STOCKYARD_LOG_LEVEL"),
        (["STOCKYARD_LINE_RETENTION_DAYS": "0"], "STOCKYARD_LINE_RETENTION_DAYS"),
        (["STOCKYARD_REDIS_PREFIX": "a:b"], "STOCKYARD_REDIS_PREFIX"),
        (["STOCKYARD_SHOPIFY_SECRET": "one,two,three"], "STOCKYARD_SHOPIFY_SECRET"),
        (["STOCKYARD_AMAZON_BRIDGE_SECRET": "one,"], "STOCKYARD_AMAZON_BRIDGE_SECRET"),
        (["STOCKYARD_SHOPIFY_SECRET": ",two"], "STOCKYARD_SHOPIFY_SECRET"),
        (["STOCKYARD_SHOPIFY_SHOPS_FILE": "/nonexistent/shops.json"], "STOCKYARD_SHOPIFY_SHOPS_FILE"),
        (["STOCKYARD_DELIVERY_RETENTION_HOURS": "0"], "STOCKYARD_DELIVERY_RETENTION_HOURS"),
        (["STOCKYARD_ZOHO_ORGANIZATION_ID": "10234695"], "STOCKYARD_ZOHO_REFRESH_TOKEN"),
        (zoho(["STOCKYARD_ZOHO_ORGANIZATION_ID": "org-1"]), "STOCKYARD_ZOHO_ORGANIZATION_ID"),
        (zoho(["STOCKYARD_ZOHO_DC": "mars"]), "STOCKYARD_ZOHO_DC"),
        (zoho(["STOCKYARD_ZOHO_ACCOUNTS_URL": "http://accounts.example.com"]), "STOCKYARD_ZOHO_ACCOUNTS_URL"),
        (zoho(["STOCKYARD_ZOHO_API_URL": "ftp://127.0.0.1"]), "STOCKYARD_ZOHO_API_URL"),
        (zoho(["STOCKYARD_ZOHO_RATE_PER_MINUTE": "150"]), "STOCKYARD_ZOHO_RATE_PER_MINUTE"),
        (zoho(["STOCKYARD_ZOHO_MAX_LINES": "0"]), "STOCKYARD_ZOHO_MAX_LINES"),
        (zoho(["STOCKYARD_ZOHO_DAILY_BUDGET": "100", "STOCKYARD_ZOHO_DAILY_RESERVE": "100"]), "STOCKYARD_ZOHO_DAILY_RESERVE"),
        (zoho(["STOCKYARD_ZOHO_TIME_ZONE": "Mars/Olympus"]), "STOCKYARD_ZOHO_TIME_ZONE"),
        (zoho(["STOCKYARD_ZOHO_PLAN": "gold"]), "STOCKYARD_ZOHO_PLAN"),
        (zoho(["STOCKYARD_FLUSH_INTERVAL": "0"]), "STOCKYARD_FLUSH_INTERVAL"),
        (zoho(["STOCKYARD_ZOHO_REFERENCE_PREFIX": "S Y"]), "STOCKYARD_ZOHO_REFERENCE_PREFIX"),
        (["STOCKYARD_ETSY_WEBHOOK_SECRET": "whsec_not base64"], "STOCKYARD_ETSY_WEBHOOK_SECRET"),
        (["STOCKYARD_EBAY_VERIFICATION_TOKEN": "too-short"], "STOCKYARD_EBAY_VERIFICATION_TOKEN"),
        (["STOCKYARD_EBAY_ENDPOINT_URL": "http://stock.example.com/webhooks/ebay"], "STOCKYARD_EBAY_ENDPOINT_URL"),
        (["STOCKYARD_EBAY_PUBLIC_KEYS": "/nonexistent/keys.json"], "STOCKYARD_EBAY_PUBLIC_KEYS"),
    ])
    func badSettingStopsTheServiceNamingIt(_ environment: [String: String], _ setting: String) throws {
        let (status, output) = try Self.start(environment)
        #expect(status == 78)
        #expect(output.contains(setting), "\(output)")
        #expect(!output.contains(ServiceProcess.adminToken))
        #expect(!output.contains("zoho-client-secret-value"))
    }

    @Test(arguments: [
        ([:], 1000, 1),
        (["STOCKYARD_ZOHO_PLAN": "free"], 1000, 5),
        (["STOCKYARD_ZOHO_PLAN": "standard"], 2500, 10),
        (["STOCKYARD_ZOHO_PLAN": "Professional"], 5000, 10),
        (["STOCKYARD_ZOHO_PLAN": "premium"], 7500, 10),
        (["STOCKYARD_ZOHO_PLAN": "enterprise"], 10_000, 10),
        // Zoho raises quotas on request: an explicit setting wins over the plan's.
        (["STOCKYARD_ZOHO_PLAN": "standard", "STOCKYARD_ZOHO_DAILY_BUDGET": "4000", "STOCKYARD_ZOHO_CONCURRENCY": "2"], 4000, 2),
    ])
    func aPlanPresetsTheDailyBudgetAndTheCallsAtOnce(_ settings: [String: String], _ budget: Int, _ concurrency: Int) async throws {
        try await offPool {
            // Zoho's accounts server is nowhere: the sync cannot start, and reports its limits anyway.
            var environment = Self.zoho(settings)
            environment["STOCKYARD_ZOHO_ACCOUNTS_URL"] = "http://127.0.0.1:\(freePort())"
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: environment)
            let zoho = try APIClient(baseURL: service.baseURL).send("GET", "/readyz").json["zoho"] as? [String: Any]
            #expect(zoho?["daily_budget"] as? Int == budget, "\(zoho ?? [:])")
            #expect(zoho?["concurrency"] as? Int == concurrency, "\(zoho ?? [:])")
        }
    }

    /// A complete set of Zoho credentials, with some settings changed.
    private static func zoho(_ changes: [String: String]) -> [String: String] {
        var environment = [
            "STOCKYARD_ZOHO_ORGANIZATION_ID": "10234695", "STOCKYARD_ZOHO_CLIENT_ID": "1000.CLIENT",
            "STOCKYARD_ZOHO_CLIENT_SECRET": "zoho-client-secret-value", "STOCKYARD_ZOHO_REFRESH_TOKEN": "1000.refresh",
        ]
        for (key, value) in changes { environment[key] = value }
        return environment
    }
}
