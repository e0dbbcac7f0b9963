import Foundation
import Logging

/// eBay's side of the look-ups: a thread per look-up worker plus one for keys and tokens, the
/// application token (for keys) and the seller's user token (for orders).
final class EbayLookups: Sendable {
    private let caller: MarketplaceCaller<EbayAPIClient>
    private let applicationToken: MarketplaceTokenKeeper
    private let userToken: MarketplaceTokenKeeper?
    /// The thread for key fetches and token requests, apart from the look-up workers'.
    private let spareThread: Int

    init(configuration: EbayAPIConfiguration, cache: TokenCache, logger: Logger) {
        let workers = max(1, configuration.concurrency)
        let caller = MarketplaceCaller(name: "ebay", threads: workers + 1) { EbayAPIClient(configuration: configuration) }
        self.caller = caller
        spareThread = workers
        let spare = workers
        applicationToken = MarketplaceTokenKeeper(
            name: "ebay:app", identity: TokenCache.identity(configuration.apiURL, configuration.clientID, configuration.clientSecret),
            refreshToken: nil, cache: cache, logger: logger
        ) { _ throws(MarketplaceAPIError) in
            try await caller.run(on: spare) { client throws(MarketplaceAPIError) in try client.applicationToken(now: Date().timeIntervalSince1970) }
        }
        userToken = configuration.refreshToken.map { refresh in
            MarketplaceTokenKeeper(
                name: "ebay:user", identity: TokenCache.identity(configuration.apiURL, configuration.clientID, refresh),
                refreshToken: refresh, cache: cache, logger: logger
            ) { _ throws(MarketplaceAPIError) in
                try await caller.run(on: spare) { client throws(MarketplaceAPIError) in
                    try client.userToken(refreshToken: refresh, now: Date().timeIntervalSince1970)
                }
            }
        }
    }

    func stop() { caller.stop() }

    /// The PEM of eBay's notification key `keyID`.
    func publicKey(_ keyID: String) async throws(MarketplaceAPIError) -> String {
        let caller = self.caller
        let thread = spareThread
        return try await applicationToken.authorized { token throws(MarketplaceAPIError) in
            try await caller.run(on: thread) { client throws(MarketplaceAPIError) in try client.publicKey(keyID: keyID, token: token) }
        }
    }

    /// The order `orderID`, on worker `worker`'s thread.
    func order(_ orderID: String, worker: Int) async throws(MarketplaceAPIError) -> [UInt8] {
        guard let userToken else {
            throw MarketplaceAPIError(.notConfigured, message: "no eBay seller refresh token is configured (STOCKYARD_EBAY_REFRESH_TOKEN)")
        }
        let caller = self.caller
        let thread = worker % spareThread
        return try await userToken.authorized { token throws(MarketplaceAPIError) in
            try await caller.run(on: thread) { client throws(MarketplaceAPIError) in try client.order(orderID, token: token) }
        }
    }
}

extension MarketplaceTokenKeeper {
    /// Runs `call` with the current token; after a 401, once more with a fresh one.
    func authorized<T: Sendable>(
        _ call: @Sendable (String) async throws(MarketplaceAPIError) -> T
    ) async throws(MarketplaceAPIError) -> T {
        let token = try await current()
        do throws(MarketplaceAPIError) {
            return try await call(token.accessToken)
        } catch where error.code == .unauthorized {
            let fresh = try await refresh(replacing: token.accessToken)
            return try await call(fresh.accessToken)
        }
    }
}
