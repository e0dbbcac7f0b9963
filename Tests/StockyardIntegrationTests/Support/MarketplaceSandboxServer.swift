import Foundation
import StockyardOutbound
import StockyardDevServers

/// The eBay and Etsy sandbox (`stockyard-dev marketplace-sandbox`), run as a process of its own with
/// its secrets in files, and driven over loopback HTTP.
final class MarketplaceSandboxServer: @unchecked Sendable {
    let configuration: MarketplaceSandboxConfiguration
    private(set) var port = 0
    private var process: Process?
    private let files: [URL]

    var url: String { "http://127.0.0.1:\(port)" }

    // The credentials it was started with.
    var ebayClientID: String { configuration.ebayClientID }
    var ebayClientSecret: String { configuration.ebayClientSecret }
    var ebayRefreshToken: String { configuration.ebayRefreshToken }
    var ebayKeyID: String { configuration.ebayKeyID }
    var etsyKeystring: String { configuration.etsyKeystring }
    var etsySharedSecret: String { configuration.etsySharedSecret }
    var etsyRefreshToken: String { configuration.etsyRefreshToken }
    /// `whsec_<base64>`.
    var etsyWebhookSecret: String { configuration.etsyWebhookSecret }

    /// `Authorization` for eBay's token endpoint: Basic with the client id and secret.
    var ebayBasicAuthorization: String { "Basic " + Data("\(ebayClientID):\(ebayClientSecret)".utf8).base64EncodedString() }
    /// Etsy's `x-api-key`: keystring and shared secret.
    var etsyAPIKey: String { "\(etsyKeystring):\(etsySharedSecret)" }

    /// Credentials of its own for each run (none of the command's defaults), so the files count.
    static func testConfiguration(
        ebayCallsPerSecond: Int = 50, etsyCallsPerSecond: Int = 10, etsyCallsPerDay: Int = 10_000
    ) -> MarketplaceSandboxConfiguration {
        let run = UUID().uuidString.prefix(8).lowercased()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        return MarketplaceSandboxConfiguration(
            ebayClientID: "Test-\(run)-PRD", ebayClientSecret: "PRD-secret-\(run)", ebayRefreshToken: "v^1.1#i^1#r^1#test-\(run)",
            ebayKeyID: "test-key-\(run)", ebayCallsPerSecond: ebayCallsPerSecond, etsyKeystring: "testkeystring\(run)",
            etsySharedSecret: "testshared\(run)", etsyRefreshToken: "87654321.test-\(run)", etsyUserID: 87_654_321,
            etsyCallsPerSecond: etsyCallsPerSecond, etsyCallsPerDay: etsyCallsPerDay,
            etsyWebhookSecret: "whsec_" + Data(key).base64EncodedString())
    }

    init(_ configuration: MarketplaceSandboxConfiguration = MarketplaceSandboxServer.testConfiguration()) async throws {
        self.configuration = configuration
        let directory = FileManager.default.temporaryDirectory
        func write(_ name: String, _ text: String) throws -> URL {
            let file = directory.appendingPathComponent("marketplace-\(name)-\(UUID().uuidString)")
            // A trailing newline, as an editor leaves it: the sandbox trims it.
            try (text + "\n").write(to: file, atomically: true, encoding: .utf8)
            return file
        }
        let ebaySecret = try write("ebay-secret", configuration.ebayClientSecret)
        let ebayRefresh = try write("ebay-refresh", configuration.ebayRefreshToken)
        let etsySecret = try write("etsy-secret", configuration.etsySharedSecret)
        let etsyRefresh = try write("etsy-refresh", configuration.etsyRefreshToken)
        let webhook = try write("etsy-webhook", configuration.etsyWebhookSecret)
        files = [ebaySecret, ebayRefresh, etsySecret, etsyRefresh, webhook]
        let process = Process()
        process.executableURL = ServiceProcess.developmentExecutable
        process.arguments = [
            "marketplace-sandbox", "--port", "0",
            "--ebay-client-id", configuration.ebayClientID, "--ebay-client-secret-file", ebaySecret.path,
            "--ebay-refresh-token-file", ebayRefresh.path, "--ebay-key-id", configuration.ebayKeyID,
            "--ebay-token-seconds", String(configuration.ebayTokenSeconds),
            "--ebay-calls-per-second", String(configuration.ebayCallsPerSecond),
            "--etsy-keystring", configuration.etsyKeystring, "--etsy-shared-secret-file", etsySecret.path,
            "--etsy-refresh-token-file", etsyRefresh.path, "--etsy-user-id", String(configuration.etsyUserID),
            "--etsy-token-seconds", String(configuration.etsyTokenSeconds),
            "--etsy-calls-per-second", String(configuration.etsyCallsPerSecond),
            "--etsy-calls-per-day", String(configuration.etsyCallsPerDay), "--etsy-webhook-secret-file", webhook.path,
        ]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        self.process = process
        port = try await offPool { listeningPort(pipe, message: "Marketplace sandbox listening") }
        guard port > 0 else { throw TestFailure("the marketplace sandbox did not start") }
    }

    deinit { stop() }

    func stop() {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process = nil
        for file in files { try? FileManager.default.removeItem(at: file) }
    }

    /// Vendor routes, and control and inspection routes (no token of the service's).
    var control: APIClient { APIClient(baseURL: url, token: nil) }

    func stats() throws -> [String: Any] {
        try control.send("GET", "/sandbox/stats").json
    }

    func setFaults(_ faults: [String: Any]) throws {
        let reply = try control.send("PUT", "/sandbox/faults", json: faults)
        guard reply.status == 200 else { throw TestFailure("faults not set: \(reply.json)") }
    }

    /// Public keys that verify eBay notifications, by key id, as PEM.
    func publicKeys() throws -> [String: String] {
        let json = try control.send("GET", "/sandbox/ebay/public-keys").json
        return json.compactMapValues { $0 as? String }
    }

    /// A signed notification as the sandbox answers it: headers, and the body's exact bytes.
    typealias Notification = (headers: [String: String], body: [UInt8])

    /// Stores an eBay order and gives the notification eBay would send about it.
    func storeEbayOrder(_ json: [String: Any], topic: String? = nil) throws -> Notification {
        let reply = try control.send("POST", "/sandbox/ebay/orders" + Self.query("topic", topic), json: json)
        return try Self.notification(reply.status == 200 ? reply.json["notification"] : nil, reply)
    }

    /// Stores eBay orders at once; one notification each, in order.
    func storeEbayOrders(_ orders: [[String: Any]], topic: String? = nil) throws -> [Notification] {
        let reply = try control.send("POST", "/sandbox/ebay/orders" + Self.query("topic", topic), json: orders)
        return try Self.notifications(reply)
    }

    /// Stores an Etsy receipt of a shop and gives the webhook delivery Etsy would send about it.
    func storeEtsyReceipt(shopID: Int, _ json: [String: Any], eventType: String? = nil) throws -> Notification {
        let reply = try control.send("POST", "/sandbox/etsy/shops/\(shopID)/receipts" + Self.query("event_type", eventType), json: json)
        return try Self.notification(reply.status == 200 ? reply.json["notification"] : nil, reply)
    }

    /// Stores Etsy receipts of a shop at once; one delivery each, in order.
    func storeEtsyReceipts(shopID: Int, _ receipts: [[String: Any]], eventType: String? = nil) throws -> [Notification] {
        let reply = try control.send("POST", "/sandbox/etsy/shops/\(shopID)/receipts" + Self.query("event_type", eventType), json: receipts)
        return try Self.notifications(reply)
    }

    private static func query(_ name: String, _ value: String?) -> String {
        value.map { "?\(name)=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
    }

    private static func notifications(_ reply: APIClient.Reply) throws -> [Notification] {
        guard reply.status == 200, let list = reply.json["notifications"] as? [Any] else {
            throw TestFailure("the sandbox refused the batch (HTTP \(reply.status)): \(reply.raw.text)")
        }
        return try list.map { try notification($0, reply) }
    }

    private static func notification(_ value: Any?, _ reply: APIClient.Reply) throws -> Notification {
        guard let object = value as? [String: Any], let headers = object["headers"] as? [String: String],
            let body = object["body"] as? String
        else { throw TestFailure("no notification (HTTP \(reply.status)): \(reply.raw.text)") }
        return (headers, Array(body.utf8))
    }
}
