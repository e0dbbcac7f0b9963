import Foundation
import Logging
import StockyardZoho

/// The one keeper of a marketplace access token: cached in memory and in Redis, refreshed
/// ahead of expiry or after a 401, never more than 10 requests in 10 minutes, one request at a
/// time. A refused client or refresh token stops it for 10 minutes at a time, until a person
/// fixes the credentials.
actor MarketplaceTokenKeeper {
    typealias Fetch = @Sendable (_ refreshToken: String?) async throws(MarketplaceAPIError) -> MarketplaceToken

    /// `ebay:app`, `ebay:user` or `etsy` (also the Redis cache name).
    let name: String
    private let identity: String
    private let configuredRefreshToken: String?
    private let cache: TokenCache
    private let fetch: Fetch
    private let logger: Logger
    private let marginSeconds: Double
    private var token: MarketplaceToken?
    private var loading: Task<MarketplaceToken?, Never>?
    private var requests = SlidingWindow(limit: 10, seconds: 600)
    private var pending: Task<MarketplaceToken, any Error>?
    /// Set when the vendor refused the credentials (and when): tried again after 10 minutes.
    private(set) var refused: (error: MarketplaceAPIError, at: Double)?

    init(
        name: String, identity: String, refreshToken: String?, cache: TokenCache, marginSeconds: Double = 300, logger: Logger,
        fetch: @escaping Fetch
    ) {
        self.name = name
        self.identity = identity
        self.configuredRefreshToken = refreshToken
        self.cache = cache
        self.marginSeconds = marginSeconds
        self.logger = logger
        self.fetch = fetch
    }

    /// A token with time left; refreshed first when close to expiry.
    func current() async throws(MarketplaceAPIError) -> MarketplaceToken {
        if token == nil {
            // Every early caller waits for the one read of the cache, so none refreshes meanwhile.
            let load = loading ?? Task { [cache, name, identity] in await cache.load(name, identity: identity) }
            loading = load
            if let cached = await load.value, token == nil { token = cached }
        }
        if let token, token.expiresAt - marginSeconds > Date().timeIntervalSince1970 { return token }
        return try await refresh(replacing: token?.accessToken)
    }

    /// A new token because `rejected` was refused or is close to expiry; when another caller
    /// refreshed meanwhile, its token is returned without asking again.
    func refresh(replacing rejected: String?) async throws(MarketplaceAPIError) -> MarketplaceToken {
        let now = Date().timeIntervalSince1970
        if let refused {
            if now - refused.at < 600 { throw refused.error }
            self.refused = nil
        }
        if let token, token.accessToken != rejected, token.expiresAt - marginSeconds > now { return token }
        if let pending { return try await Self.value(of: pending) }
        let wait = requests.wait(now: now)
        if wait > 0 {
            if let token, token.accessToken != rejected, token.expiresAt > now + 1 { return token }
            throw MarketplaceAPIError(.tokenRequestLimit, message: "\(name): token requests are at 10 per 10 minutes", retryAfter: wait)
        }
        requests.record(now: now)
        let rotated = token?.refreshToken
        let configured = configuredRefreshToken
        let fetch = self.fetch
        let task = Task { () throws -> MarketplaceToken in
            do {
                return try await fetch(rotated ?? configured)
            } catch let error as MarketplaceAPIError where error.code == .credentialsRejected && rotated != nil && rotated != configured {
                // The refresh token Etsy rotated to was refused: the configured one may still work.
                return try await fetch(configured)
            }
        }
        pending = task
        defer { pending = nil }
        do {
            let fresh = try await Self.value(of: task)
            token = fresh
            logger.info("marketplace access token refreshed", metadata: ["token": "\(name)"])
            // A rotating refresh token must outlive the access token (Etsy's last 90 days).
            let seconds = fresh.refreshToken != nil ? 90 * 86_400 : Int(fresh.expiresAt - Date().timeIntervalSince1970)
            await cache.store(name, identity: identity, token: fresh, seconds: seconds)
            return fresh
        } catch {
            if error.code == .credentialsRejected {
                refused = (error, Date().timeIntervalSince1970)
                logger.critical(
                    "the marketplace refused our credentials: look-ups wait until they are fixed (tried again every 10 minutes)",
                    metadata: ["token": "\(name)", "error": "\(error.message)"])
            } else {
                logger.warning("marketplace token refresh failed", metadata: ["token": "\(name)", "error": "\(error)"])
            }
            throw error
        }
    }

    private static func value(of task: Task<MarketplaceToken, any Error>) async throws(MarketplaceAPIError) -> MarketplaceToken {
        do {
            return try await task.value
        } catch let error as MarketplaceAPIError {
            throw error
        } catch {
            throw MarketplaceAPIError(.network, message: "token refresh interrupted")
        }
    }
}
