import ArgumentParser
import Foundation
import StockyardMarketplaces
import StockyardServer

/// The eBay and Etsy API settings of `serve`, for notification keys and order look-ups. Without
/// them notifications are still verified (eBay with pinned keys) and stored as look-up jobs,
/// which wait until the API is configured.
struct MarketplaceOptions: ParsableArguments {
    @Option(name: .customLong("ebay-api-url"), help: "eBay API host (http:// only on loopback). Env: STOCKYARD_EBAY_API_URL (default https://api.ebay.com).")
    var ebayAPIURL: String?

    @Option(name: .customLong("ebay-client-id"), help: "eBay app id (OAuth client id). Env: STOCKYARD_EBAY_CLIENT_ID.")
    var ebayClientID: String?

    @Option(name: .customLong("ebay-client-secret"), help: "eBay cert id (OAuth client secret). Env: STOCKYARD_EBAY_CLIENT_SECRET, or STOCKYARD_EBAY_CLIENT_SECRET_FILE.")
    var ebayClientSecret: String?

    @Option(name: .customLong("ebay-refresh-token"), help: "The seller's eBay refresh token (sell.fulfillment.readonly), for order look-ups. Env: STOCKYARD_EBAY_REFRESH_TOKEN, or STOCKYARD_EBAY_REFRESH_TOKEN_FILE.")
    var ebayRefreshToken: String?

    @Option(name: .customLong("ebay-lookups-per-second"), help: "eBay order look-ups per second, at most. Env: STOCKYARD_EBAY_LOOKUPS_PER_SECOND (default 20).")
    var ebayLookupsPerSecond: String?

    @Option(name: .customLong("etsy-api-url"), help: "Etsy API host (http:// only on loopback). Env: STOCKYARD_ETSY_API_URL (default https://api.etsy.com).")
    var etsyAPIURL: String?

    @Option(name: .customLong("etsy-keystring"), help: "Etsy app keystring (OAuth client id). Env: STOCKYARD_ETSY_KEYSTRING.")
    var etsyKeystring: String?

    @Option(name: .customLong("etsy-shared-secret"), help: "Etsy app shared secret, sent in x-api-key as Etsy requires. Env: STOCKYARD_ETSY_SHARED_SECRET, or STOCKYARD_ETSY_SHARED_SECRET_FILE.")
    var etsySharedSecret: String?

    @Option(name: .customLong("etsy-refresh-token"), help: "The shop owner's Etsy refresh token (transactions_r). Env: STOCKYARD_ETSY_REFRESH_TOKEN, or STOCKYARD_ETSY_REFRESH_TOKEN_FILE.")
    var etsyRefreshToken: String?

    @Option(name: .customLong("etsy-lookups-per-second"), help: "Etsy receipt look-ups per second, at most (Etsy allows 10). Env: STOCKYARD_ETSY_LOOKUPS_PER_SECOND (default 8).")
    var etsyLookupsPerSecond: String?

    @Option(name: .customLong("lookup-max-attempts"), help: "Failed attempts before a look-up becomes a dead letter. Env: STOCKYARD_LOOKUP_MAX_ATTEMPTS (default 10).")
    var maxAttempts: String?

    @Option(name: .customLong("lookup-backoff"), help: "Seconds to wait after a look-up's first failure; doubles each time, up to 10 minutes. Env: STOCKYARD_LOOKUP_BACKOFF_SECONDS (default 2).")
    var backoff: String?

    func ebay(_ reader: SettingReader) throws(SettingError) -> EbayAPIConfiguration? {
        let client = reader.value(ebayClientID, "STOCKYARD_EBAY_CLIENT_ID")
        let secret = try reader.secret(ebayClientSecret, "STOCKYARD_EBAY_CLIENT_SECRET")
        let refresh = try reader.secret(ebayRefreshToken, "STOCKYARD_EBAY_REFRESH_TOKEN")
        if client == nil && secret == nil && refresh == nil { return nil }
        guard let client, let secret else {
            throw SettingError(message: "--ebay-client-id / STOCKYARD_EBAY_CLIENT_ID and --ebay-client-secret / STOCKYARD_EBAY_CLIENT_SECRET: both are required once either is set")
        }
        let url = try ZohoOptions.checkURL(reader.value(ebayAPIURL, "STOCKYARD_EBAY_API_URL") ?? "https://api.ebay.com", "--ebay-api-url / STOCKYARD_EBAY_API_URL")
        let rate = try reader.integer(ebayLookupsPerSecond, "ebay-lookups-per-second", "STOCKYARD_EBAY_LOOKUPS_PER_SECOND", default: 20, range: 1...1000)
        return EbayAPIConfiguration(
            apiURL: url, clientID: client, clientSecret: secret, refreshToken: refresh, lookupsPerSecond: Double(rate),
            concurrency: min(16, max(2, rate / 5)))
    }

    func etsy(_ reader: SettingReader) throws(SettingError) -> EtsyAPIConfiguration? {
        let keystring = reader.value(etsyKeystring, "STOCKYARD_ETSY_KEYSTRING")
        let shared = try reader.secret(etsySharedSecret, "STOCKYARD_ETSY_SHARED_SECRET")
        let refresh = try reader.secret(etsyRefreshToken, "STOCKYARD_ETSY_REFRESH_TOKEN")
        if keystring == nil && shared == nil && refresh == nil { return nil }
        guard let keystring, let shared, let refresh else {
            throw SettingError(message: "--etsy-keystring / STOCKYARD_ETSY_KEYSTRING, --etsy-shared-secret / STOCKYARD_ETSY_SHARED_SECRET and --etsy-refresh-token / STOCKYARD_ETSY_REFRESH_TOKEN: all three are required once any Etsy API setting is set (Etsy refuses calls without the shared secret)")
        }
        let url = try ZohoOptions.checkURL(reader.value(etsyAPIURL, "STOCKYARD_ETSY_API_URL") ?? "https://api.etsy.com", "--etsy-api-url / STOCKYARD_ETSY_API_URL")
        let rate = try reader.integer(etsyLookupsPerSecond, "etsy-lookups-per-second", "STOCKYARD_ETSY_LOOKUPS_PER_SECOND", default: 8, range: 1...1000)
        return EtsyAPIConfiguration(
            apiURL: url, keystring: keystring, sharedSecret: shared, refreshToken: refresh, lookupsPerSecond: Double(rate),
            concurrency: min(16, max(2, rate / 4)))
    }

    func lookups(_ reader: SettingReader) throws(SettingError) -> LookupConfiguration {
        let attempts = try reader.integer(maxAttempts, "lookup-max-attempts", "STOCKYARD_LOOKUP_MAX_ATTEMPTS", default: 10, range: 1...100)
        let first = try reader.integer(backoff, "lookup-backoff", "STOCKYARD_LOOKUP_BACKOFF_SECONDS", default: 2, range: 0...3600)
        return LookupConfiguration(maxAttempts: attempts, firstBackoffSeconds: Double(first))
    }
}
