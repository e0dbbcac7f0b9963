import Crypto
import Foundation
import StockyardRedis
import StockyardZoho

/// Marketplace tokens cached in Redis, so that a restart reuses them instead of asking again
/// (and an Etsy refresh token, which rotates, is not lost).
final class TokenCache: Sendable {
    private final class Resources: @unchecked Sendable {
        var redis: RedisStore?
    }

    private struct Record: Codable {
        var identity: String
        var token: MarketplaceToken
    }

    private let redis: RedisConfiguration
    private let worker = BlockingWorker(name: "token-cache")
    private let resources = Resources()

    init(redis: RedisConfiguration) {
        self.redis = redis
    }

    func stop() { worker.stop() }

    /// What identifies the credentials a token was issued for, without holding them: a digest.
    static func identity(_ parts: String...) -> String {
        SHA256.hash(data: Data(parts.joined(separator: "\n").utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    /// The token cached under `name` for these credentials, if any.
    func load(_ name: String, identity: String) async -> MarketplaceToken? {
        let record: [UInt8]? = try? await run { store throws(RedisError) in try store.channelToken(name) }
        guard let record, let decoded = try? JSONDecoder().decode(Record.self, from: Data(record)), decoded.identity == identity else {
            return nil
        }
        return decoded.token
    }

    /// Caches a token for `seconds`; a failure only costs a token request after a restart.
    func store(_ name: String, identity: String, token: MarketplaceToken, seconds: Int) async {
        guard let record = try? JSONEncoder().encode(Record(identity: identity, token: token)) else { return }
        let bytes = Array(record)
        _ = try? await run { store throws(RedisError) in try store.setChannelToken(name, bytes, expiresInSeconds: seconds) }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (RedisStore) throws(RedisError) -> T) async throws(RedisError) -> T {
        let resources = self.resources
        let configuration = redis
        return try await worker.run { () throws(RedisError) -> T in
            do throws(RedisError) {
                if resources.redis == nil || resources.redis?.connection.isUsable != true {
                    resources.redis = RedisStore(connection: try RedisConnection(configuration: configuration))
                }
                return try body(resources.redis!)
            } catch {
                resources.redis = nil
                throw error
            }
        }
    }
}
