import Foundation
import StockyardOutbound

/// The `stockyard` executable running as a child process, as it runs in production.
final class ServiceProcess: @unchecked Sendable {
    static let adminToken = "test-admin-token-0123456789"

    let redisURL: String
    let prefix: String
    private(set) var port = 0
    private var process: Process?
    private let extraEnvironment: [String: String]
    /// The process's log lines. The reader thread holds only this, never the `ServiceProcess`,
    /// so that dropping the last reference kills the process.
    private let output = OutputLines()

    init(redisURL: String, prefix: String = "svc-\(UUID().uuidString.prefix(8))", environment: [String: String] = [:]) throws {
        self.redisURL = redisURL
        self.prefix = prefix
        self.extraEnvironment = environment
        try start()
    }

    deinit {
        // No waiting here: this may run while the test process exits.
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The running process's id.
    var processIdentifier: Int32? { process?.processIdentifier }

    static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["STOCKYARD_BINARY"] { return URL(fileURLWithPath: path) }
        return buildProductsDirectory.appendingPathComponent("stockyard")
    }

    /// The development servers' executable (`stockyard-dev`): the Zoho and marketplace sandboxes.
    static var developmentExecutable: URL {
        if let path = ProcessInfo.processInfo.environment["STOCKYARD_DEV_BINARY"] { return URL(fileURLWithPath: path) }
        return buildProductsDirectory.appendingPathComponent("stockyard-dev")
    }

    /// Starts the service and waits until it listens and has loaded its state.
    func start() throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["serve", "--port", "0"]
        var environment = ProcessInfo.processInfo.environment
        environment["STOCKYARD_REDIS_URL"] = redisURL
        environment["STOCKYARD_REDIS_PREFIX"] = prefix
        environment["STOCKYARD_ADMIN_TOKEN"] = Self.adminToken
        environment["STOCKYARD_LOG_LEVEL"] = "info"
        // Test services hold thousands of lines, not millions: a small table commits less memory
        // at start (it grows like any other when a test needs more).
        environment["STOCKYARD_EXPECTED_LINES"] = "100000"
        for (key, value) in extraEnvironment { environment[key] = value }
        process.environment = environment
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        let listening = DispatchSemaphore(value: 0)
        let portBox = PortBox()
        let output = self.output
        let reader = Thread {
            let handle = pipe.fileHandleForReading
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    output.append(line)
                    if line.contains("\"message\":\"listening\""), let port = Self.port(in: line) {
                        portBox.port = port
                        listening.signal()
                    }
                }
            }
            listening.signal()
        }
        try process.run()
        reader.start()
        self.process = process
        guard listening.wait(timeout: .now() + 60) == .success, portBox.port > 0 else {
            throw TestFailure("the service did not start listening; output:\n\(logText)")
        }
        port = portBox.port
        try waitUntilReady()
    }

    func waitUntilReady(timeout: Double = 60) throws {
        let client = CurlHTTPClient()
        try waitUntil("the service to be ready", timeout: timeout) {
            try client.get("\(baseURL)/readyz").status == 200
        }
    }

    /// Kills the process with SIGKILL, as a crash would.
    func kill9() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Asks for a graceful stop and waits for the exit status.
    func terminate() -> Int32 {
        guard let process else { return -1 }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    var logText: String { output.text }

    private static func port(in line: String) -> Int? {
        guard let range = line.range(of: "\"port\":\"") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    private final class PortBox: @unchecked Sendable {
        var port = 0
    }

    private final class OutputLines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var text: String { lock.withLock { lines.joined(separator: "\n") } }
    }
}
