import Foundation
import Hummingbird
import Logging
import StockyardZohoSandbox

/// The Zoho sandbox, served over loopback HTTP from the test process.
final class SandboxServer: @unchecked Sendable {
    let sandbox: ZohoSandbox
    let port: Int
    private let task: Task<Void, any Error>

    var url: String { "http://127.0.0.1:\(port)" }

    init(_ configuration: SandboxConfiguration = SandboxConfiguration()) async throws {
        let sandbox = ZohoSandbox(configuration: configuration)
        self.sandbox = sandbox
        var logger = Logger(label: "zoho-sandbox")
        // Cancelling the server at the end of a test logs an error; nothing else is of interest.
        logger.logLevel = .critical
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = sandbox.makeApplication(logger: logger) { port in continuation.yield(port) }
        task = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the sandbox did not start") }
        self.port = port
    }

    deinit { task.cancel() }

    func stop() { task.cancel() }

    /// The service's environment for using this sandbox as its Zoho.
    func serviceEnvironment(interval: Int = 1, extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "STOCKYARD_ZOHO_ACCOUNTS_URL": url, "STOCKYARD_ZOHO_API_URL": url,
            "STOCKYARD_ZOHO_ORGANIZATION_ID": sandbox.configuration.organizationID,
            "STOCKYARD_ZOHO_CLIENT_ID": sandbox.configuration.clientID,
            "STOCKYARD_ZOHO_CLIENT_SECRET": sandbox.configuration.clientSecret,
            "STOCKYARD_ZOHO_REFRESH_TOKEN": sandbox.configuration.refreshTokens[0],
            "STOCKYARD_FLUSH_INTERVAL": String(interval),
            "STOCKYARD_ZOHO_LOOKUP_DELAY": "0",
            "STOCKYARD_ZOHO_TIMEOUT": "5",
        ]
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    /// Control and inspection routes.
    var control: APIClient { APIClient(baseURL: url, token: nil) }

    /// Net quantity received per "item/location".
    func nets() throws -> [String: Double] {
        let reply = try control.send("GET", "/sandbox/nets")
        var nets: [String: Double] = [:]
        for entry in reply.json["nets"] as? [[String: Any]] ?? [] {
            nets["\(entry["item_id"]!)/\(entry["location_id"]!)"] = (entry["quantity"] as? NSNumber)?.doubleValue
        }
        return nets
    }

    func stats() throws -> [String: Any] {
        try control.send("GET", "/sandbox/stats").json
    }

    func setFaults(_ faults: [String: Any]) throws {
        let reply = try control.send("PUT", "/sandbox/faults", json: faults)
        guard reply.status == 200 else { throw TestFailure("faults not set: \(reply.json)") }
    }
}
