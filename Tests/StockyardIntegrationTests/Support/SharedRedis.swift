import Foundation
import StockyardRedis

/// The Redis most tests share, each under a key prefix of its own: the one `ops/test` started
/// (`STOCKYARD_TEST_REDIS_URL`), or else one started for this test process.
enum SharedRedis {
    private static let own: RedisServer? = {
        if ProcessInfo.processInfo.environment["STOCKYARD_TEST_REDIS_URL"] != nil { return nil }
        let server = try! RedisServer()
        ownPID = server.processIdentifier
        atexit { if ownPID > 0 { kill(ownPID, SIGKILL) } }
        return server
    }()
    nonisolated(unsafe) private static var ownPID: Int32 = 0

    static var url: String {
        if let url = ProcessInfo.processInfo.environment["STOCKYARD_TEST_REDIS_URL"] { return url }
        return own!.url
    }

    static func configuration(prefix: String = "test-\(UUID().uuidString.prefix(8))") throws -> RedisConfiguration {
        try RedisConfiguration(url: url, keyPrefix: prefix)
    }
}
