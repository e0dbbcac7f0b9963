import Foundation
import Logging
import StockyardOutbound

/// Etsy as a configuration of the outbound layer: a thread per look-up worker plus one for
/// tokens, one call budget, and the shop owner's token, whose refresh token rotates with each
/// refresh (the rotated one is cached in Redis with the access token).
package final class EtsyLookups: Sendable {
    private let receipts: OutboundCaller<EtsyAPIClient>
    private let workers: Int

    package init(configuration: EtsyAPIConfiguration, limiter: CallLimiter, store: OutboundStore, logger: Logger) {
        let workers = max(1, configuration.concurrency)
        let pool = WorkerPool(name: "etsy", threads: workers + 1) { EtsyAPIClient(configuration: configuration) }
        self.workers = workers
        let token = TokenKeeper(
            name: "etsy", identity: TokenKeeper.identity(configuration.apiURL, configuration.keystring, configuration.refreshToken),
            refreshToken: configuration.refreshToken, policy: TokenPolicy(refusal: .retryAfter(600)), store: store, logger: logger
        ) { refreshToken, now throws(OutboundError) in
            let current = refreshToken ?? configuration.refreshToken
            return try await pool.run(on: workers) { client throws(OutboundError) in try client.refresh(refreshToken: current, now: now) }
        }
        receipts = OutboundCaller(pool: pool, limiter: limiter, tokens: token, logger: logger)
    }

    package func stop() { receipts.stop() }

    /// The receipt `receiptID` of shop `shopID`, on worker `worker`'s thread.
    package func receipt(
        shopID: String, receiptID: String, worker: Int, retry: RetryPolicy = LookupLane.retry
    ) async throws(OutboundError) -> [UInt8] {
        try await receipts.call(on: worker % workers, retry: retry) { client, token throws(OutboundError) in
            try client.receipt(shopID: shopID, receiptID: receiptID, token: token!.accessToken)
        }
    }
}
