import Foundation
import Testing

/// A setting that cannot be used stops the service at start, naming the setting.
@Suite struct ConfigurationTests {
    private func start(_ environment: [String: String]) throws -> (status: Int32, output: String) {
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
    ])
    func badSettingStopsTheServiceNamingIt(_ environment: [String: String], _ setting: String) throws {
        let (status, output) = try start(environment)
        #expect(status == 78)
        #expect(output.contains(setting), "\(output)")
        #expect(!output.contains(ServiceProcess.adminToken))
    }
}
