import Foundation
import StockyardDevServers

/// The Zoho sandbox (`stockyard-dev zoho-sandbox`), run as a process of its own so that nothing else
/// in the test process can hold up its answers, and driven over loopback HTTP.
final class SandboxServer: @unchecked Sendable {
    let configuration: SandboxConfiguration
    private(set) var port = 0
    private var process: Process?
    private let files: [URL]

    var url: String { "http://127.0.0.1:\(port)" }

    init(_ configuration: SandboxConfiguration = SandboxConfiguration()) async throws {
        precondition(configuration.refreshTokens.count == 1, "the sandbox command takes one refresh token")
        self.configuration = configuration
        let directory = FileManager.default.temporaryDirectory
        let secret = directory.appendingPathComponent("sandbox-secret-\(UUID().uuidString)")
        let refresh = directory.appendingPathComponent("sandbox-refresh-\(UUID().uuidString)")
        try configuration.clientSecret.write(to: secret, atomically: true, encoding: .utf8)
        try configuration.refreshTokens[0].write(to: refresh, atomically: true, encoding: .utf8)
        files = [secret, refresh]
        let process = Process()
        process.executableURL = ServiceProcess.developmentExecutable
        process.arguments = [
            "zoho-sandbox", "--port", "0", "--organization-id", configuration.organizationID, "--client-id", configuration.clientID,
            "--client-secret-file", secret.path, "--refresh-token-file", refresh.path,
            "--calls-per-minute", String(configuration.callsPerMinute), "--calls-per-day", String(configuration.callsPerDay),
            "--token-seconds", String(Int(configuration.accessTokenSeconds)),
            "--token-requests-per-10-minutes", String(configuration.tokenRequestsPer10Minutes),
        ] + (configuration.createUnknownItems ? [] : ["--strict-items"])
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        self.process = process
        port = try await offPool { listeningPort(pipe, message: "Zoho sandbox listening") }
        guard port > 0 else { throw TestFailure("the Zoho sandbox did not start") }
        if !configuration.items.isEmpty {
            let body = Array(try JSONEncoder().encode(configuration.items))
            let url = self.url
            let status = try await offPool { () throws -> Int in
                try APIClient(baseURL: url, token: nil).send("PUT", "/sandbox/items", body: body).status
            }
            guard status == 200 else { throw TestFailure("the sandbox refused its items (HTTP \(status))") }
        }
    }

    deinit { stop() }

    func stop() {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process = nil
        for file in files { try? FileManager.default.removeItem(at: file) }
    }

    /// The service's environment for using this sandbox as its Zoho.
    func serviceEnvironment(interval: Int = 1, extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "STOCKYARD_ZOHO_ACCOUNTS_URL": url, "STOCKYARD_ZOHO_API_URL": url,
            "STOCKYARD_ZOHO_ORGANIZATION_ID": configuration.organizationID,
            "STOCKYARD_ZOHO_CLIENT_ID": configuration.clientID,
            "STOCKYARD_ZOHO_CLIENT_SECRET": configuration.clientSecret,
            "STOCKYARD_ZOHO_REFRESH_TOKEN": configuration.refreshTokens[0],
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

/// The port named by the first log line holding `message` (`"port":"<n>"`), or 0 when the
/// process ends first; a reader then drains the pipe until exit. Blocks.
func listeningPort(_ pipe: Pipe, message: String) -> Int {
    let handle = pipe.fileHandleForReading
    var pending = Data()
    var found = 0
    while found == 0 {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        pending.append(chunk)
        let text = String(decoding: pending, as: UTF8.self)
        if let line = text.split(separator: "\n").first(where: { $0.contains(message) }),
            let range = line.range(of: "\"port\":\"")
        {
            found = Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }
    }
    Thread { while !handle.availableData.isEmpty {} }.start()
    return found
}
