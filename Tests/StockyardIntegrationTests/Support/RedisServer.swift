import Foundation
import StockyardRedis

/// A private `redis-server` for one test, on a free port, with AOF on and its data in a scratch
/// folder. It can be stopped and started again on the same port and data.
final class RedisServer: @unchecked Sendable {
    let port: Int
    let directory: URL
    private var process: Process?

    init() throws {
        port = freePort()
        directory = makeScratchDirectory("redis")
        try start()
    }

    deinit {
        // No waiting here: this may run while the test process exits.
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    var processIdentifier: Int32 { process?.processIdentifier ?? 0 }

    var url: String { "redis://127.0.0.1:\(port)" }

    func configuration(prefix: String = "test-\(UUID().uuidString.prefix(8))") -> RedisConfiguration {
        RedisConfiguration(host: "127.0.0.1", port: port, connectTimeout: 1, commandTimeout: 5, keyPrefix: prefix)
    }

    func start() throws {
        let process = Process()
        process.executableURL = try Self.executable()
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--dir", directory.path,
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--protected-mode", "no", "--loglevel", "warning",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        try waitUntil("redis-server on port \(port)") {
            let connection = try RedisConnection(configuration: configuration())
            return try connection.command(["PING"]) == .status("PONG")
        }
    }

    /// Stops Redis cleanly (its AOF is flushed), as an operator would.
    func stop() throws {
        guard let process else { return }
        let connection = try? RedisConnection(configuration: configuration())
        _ = try? connection?.command(["SHUTDOWN"])
        process.waitUntilExit()
        self.process = nil
    }

    static func executable() throws -> URL {
        for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
            let url = URL(fileURLWithPath: directory).appendingPathComponent("redis-server")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw TestFailure("redis-server is not installed (ops/test installs it)")
    }
}
