import Foundation
import Logging

/// Etsy's side of the look-ups: a thread per look-up worker plus one for tokens, and the shop
/// owner's token, whose refresh token rotates with each refresh.
final class EtsyLookups: Sendable {
    private let caller: MarketplaceCaller<EtsyAPIClient>
    private let token: MarketplaceTokenKeeper
    private let workers: Int

    init(configuration: EtsyAPIConfiguration, cache: TokenCache, logger: Logger) {
        let workers = max(1, configuration.concurrency)
        let caller = MarketplaceCaller(name: "etsy", threads: workers + 1) { EtsyAPIClient(configuration: configuration) }
        self.caller = caller
        self.workers = workers
        token = MarketplaceTokenKeeper(
            name: "etsy", identity: TokenCache.identity(configuration.apiURL, configuration.keystring, configuration.refreshToken),
            refreshToken: configuration.refreshToken, cache: cache, logger: logger
        ) { refreshToken throws(MarketplaceAPIError) in
            let current = refreshToken ?? configuration.refreshToken
            return try await caller.run(on: workers) { client throws(MarketplaceAPIError) in
                try client.refresh(refreshToken: current, now: Date().timeIntervalSince1970)
            }
        }
    }

    func stop() { caller.stop() }

    /// The receipt `receiptID` of shop `shopID`, on worker `worker`'s thread.
    func receipt(shopID: String, receiptID: String, worker: Int) async throws(MarketplaceAPIError) -> [UInt8] {
        let caller = self.caller
        let thread = worker % workers
        return try await token.authorized { token throws(MarketplaceAPIError) in
            try await caller.run(on: thread) { client throws(MarketplaceAPIError) in
                try client.receipt(shopID: shopID, receiptID: receiptID, token: token)
            }
        }
    }
}
