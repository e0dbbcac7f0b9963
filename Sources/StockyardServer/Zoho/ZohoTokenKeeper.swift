import Foundation
import Logging
import Prometheus
import StockyardZoho

/// The one refresher of an organization's access token: cached in memory and in Redis,
/// refreshed ahead of expiry, and never more often than Zoho's token-request limit allows.
/// A refused refresh token stops it until the configuration changes.
actor ZohoTokenKeeper {
    private let configuration: ZohoConfiguration
    private let caller: ZohoCaller
    private let metrics: ZohoMetrics
    private let logger: Logger
    private var token: ZohoToken?
    private var requests: SlidingWindow
    private var pending: Task<ZohoToken, any Error>?
    /// Set once Zoho refused the refresh token: a person must authorize again.
    private(set) var refused: ZohoError?

    init(configuration: ZohoConfiguration, caller: ZohoCaller, metrics: ZohoMetrics, logger: Logger) {
        self.configuration = configuration
        self.caller = caller
        self.metrics = metrics
        self.logger = logger
        self.requests = SlidingWindow(limit: configuration.tokenRequestsPer10Minutes, seconds: 600)
    }

    /// Starts from the token cached in Redis, if it still has time left.
    func loadCached() async {
        let identity = cacheIdentity
        guard let cached = try? await caller.cachedToken(), cached.identity == identity,
            cached.token.expiresAt > Date().timeIntervalSince1970 + configuration.tokenRefreshMarginSeconds
        else { return }
        token = cached.token
        logger.info("Zoho access token taken from the cache", metadata: ["expires_in": "\(Int(cached.token.expiresAt - Date().timeIntervalSince1970))"])
    }

    /// A token with time left; refreshed first when it is close to expiry.
    func current() async throws(ZohoError) -> ZohoToken {
        if let token, token.expiresAt - configuration.tokenRefreshMarginSeconds > Date().timeIntervalSince1970 {
            return token
        }
        return try await refresh(replacing: token?.accessToken)
    }

    /// A new token, because `rejected` was refused (401) or is close to expiry. When another
    /// caller refreshed meanwhile, its token is returned without asking Zoho again.
    func refresh(replacing rejected: String?) async throws(ZohoError) -> ZohoToken {
        if let refused { throw refused }
        if let token, token.accessToken != rejected, token.expiresAt > Date().timeIntervalSince1970 + 1 {
            return token
        }
        if let pending {
            return try await Self.value(of: pending)
        }
        let now = Date().timeIntervalSince1970
        let wait = requests.wait(now: now)
        if wait > 0 {
            // Over the limit: keep using a token that has not expired yet, however close.
            if let token, token.accessToken != rejected, token.expiresAt > now + 1 { return token }
            throw ZohoError(
                .tokenRequestLimit, message: "token requests are at Zoho's limit of \(requests.limit) per 10 minutes",
                retryAfter: wait, outcomeKnown: true)
        }
        requests.record(now: now)
        let task = Task { [caller, configuration] () throws -> ZohoToken in
            try await caller.refreshToken(configuration)
        }
        pending = task
        defer { pending = nil }
        do {
            let fresh = try await Self.value(of: task)
            token = fresh
            metrics.count(.token, .ok)
            logger.info("Zoho access token refreshed", metadata: ["api_domain": "\(fresh.apiDomain)"])
            try? await caller.cacheToken(CachedToken(identity: cacheIdentity, token: fresh))
            return fresh
        } catch {
            metrics.count(.token, .init(error))
            if error.code == .refreshTokenRejected {
                refused = error
                metrics.tokenProblems.increment()
                logger.critical(
                    "Zoho refused the refresh token: sync is stopped until it is authorized again (stockyard zoho authorize)",
                    metadata: ["error": "\(error.message)"])
            } else {
                logger.warning("Zoho token refresh failed", metadata: ["error": "\(error)"])
            }
            throw error
        }
    }

    private var cacheIdentity: String { configuration.clientID + "/" + configuration.organizationID }

    private static func value(of task: Task<ZohoToken, any Error>) async throws(ZohoError) -> ZohoToken {
        do {
            return try await task.value
        } catch let error as ZohoError {
            throw error
        } catch {
            throw ZohoError(.notSent, message: "token refresh interrupted: \(error)", outcomeKnown: true)
        }
    }
}

/// A token as cached in Redis, with the client and organization it belongs to.
struct CachedToken: Codable, Sendable {
    var identity: String
    var token: ZohoToken
}
