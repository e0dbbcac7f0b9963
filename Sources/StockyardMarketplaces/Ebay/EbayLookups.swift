import Foundation
import Logging
import StockyardOutbound

/// eBay as a configuration of the outbound layer: a thread per look-up worker plus one for keys
/// and tokens, one call budget for all of them, the application token (for notification keys)
/// and the seller's user token (for orders), each kept by a `TokenKeeper` (10 requests per 10
/// minutes, counted across restarts; refused credentials are tried again after 10 minutes).
package final class EbayLookups: Sendable {
    /// Key fetches, with the application token.
    private let keys: OutboundCaller<EbayAPIClient>
    /// Order look-ups, with the seller's token.
    private let orders: OutboundCaller<EbayAPIClient>?
    /// The thread for key fetches and token requests, apart from the look-up workers'.
    private let spareThread: Int

    package init(configuration: EbayAPIConfiguration, limiter: CallLimiter, store: OutboundStore, logger: Logger) {
        let workers = max(1, configuration.concurrency)
        let pool = WorkerPool(name: "ebay", threads: workers + 1) { EbayAPIClient(configuration: configuration) }
        spareThread = workers
        let spare = workers
        let policy = TokenPolicy(refusal: .retryAfter(600))
        let applicationToken = TokenKeeper(
            name: "ebay:app", identity: TokenKeeper.identity(configuration.apiURL, configuration.clientID, configuration.clientSecret),
            policy: policy, store: store, logger: logger
        ) { _, now throws(OutboundError) in
            try await pool.run(on: spare) { client throws(OutboundError) in try client.applicationToken(now: now) }
        }
        // The Notification API has limits of its own, apart from the Fulfillment API's; a
        // paused look-up lane must not hold the key a webhook is waiting for.
        let keyLimiter = CallLimiter(
            name: "ebay-keys", limits: .init(perMinute: 60, concurrent: 1, daily: .max, dailyReserve: 0), store: store, logger: logger)
        keys = OutboundCaller(pool: pool, limiter: keyLimiter, tokens: applicationToken, logger: logger)
        orders = configuration.refreshToken.map { refresh in
            let userToken = TokenKeeper(
                name: "ebay:user", identity: TokenKeeper.identity(configuration.apiURL, configuration.clientID, refresh),
                refreshToken: refresh, policy: policy, store: store, logger: logger
            ) { _, now throws(OutboundError) in
                try await pool.run(on: spare) { client throws(OutboundError) in try client.userToken(refreshToken: refresh, now: now) }
            }
            return OutboundCaller(pool: pool, limiter: limiter, tokens: userToken, logger: logger)
        }
    }

    package func stop() { keys.stop() }

    /// The PEM of eBay's notification key `keyID`.
    package func publicKey(_ keyID: String) async throws(OutboundError) -> String {
        // A webhook waits for the key: never longer than a few seconds.
        try await keys.call(deadline: .now + .seconds(5), on: spareThread, retry: LookupLane.retry) { client, token throws(OutboundError) in
            try client.publicKey(keyID: keyID, token: token!.accessToken)
        }
    }

    /// The order `orderID`, on worker `worker`'s thread.
    package func order(_ orderID: String, worker: Int, retry: RetryPolicy = LookupLane.retry) async throws(OutboundError) -> [UInt8] {
        guard let orders else {
            throw OutboundError(.notConfigured, message: "no eBay seller refresh token is configured (STOCKYARD_EBAY_REFRESH_TOKEN)")
        }
        return try await orders.call(on: worker % spareThread, retry: retry) { client, token throws(OutboundError) in
            try client.order(orderID, token: token!.accessToken)
        }
    }
}
