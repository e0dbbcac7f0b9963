import Foundation
import StockyardRedis

/// The outbound layer's own Redis connection, on a thread of its own (hiredis blocks): token
/// records, token-request history, call history, daily counts and pauses of every API client.
/// Connected on first use and again after a failure; a failure is the caller's to handle.
public final class OutboundStore: Sendable {
    private final class Connection: @unchecked Sendable {
        var store: RedisStore?
    }

    private let configuration: RedisConfiguration
    private let worker = BlockingWorker(name: "outbound-redis")
    private let connection = Connection()

    public init(redis: RedisConfiguration) {
        self.configuration = redis
    }

    /// Lets the thread end once the work queued so far is done.
    public func stop() { worker.stop() }

    /// Runs `body` with the connection, on the store's thread.
    public func run<T: Sendable>(_ body: @escaping @Sendable (RedisStore) throws(RedisError) -> T) async throws(RedisError) -> T {
        let connection = self.connection
        let configuration = self.configuration
        return try await worker.run { () throws(RedisError) -> T in
            do throws(RedisError) {
                if connection.store == nil || connection.store?.connection.isUsable != true {
                    connection.store = RedisStore(connection: try RedisConnection(configuration: configuration))
                }
                return try body(connection.store!)
            } catch {
                connection.store = nil
                throw error
            }
        }
    }
}
