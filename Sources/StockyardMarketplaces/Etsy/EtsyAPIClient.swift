import Foundation
import StockyardOutbound

/// Etsy's Open API v3 over libcurl: the OAuth token refresh and shop receipts. One per thread.
package final class EtsyAPIClient {
    private let http: MarketplaceHTTP
    private let configuration: EtsyAPIConfiguration

    package init(configuration: EtsyAPIConfiguration) {
        self.configuration = configuration
        self.http = MarketplaceHTTP(connectTimeout: configuration.connectTimeoutSeconds, totalTimeout: configuration.totalTimeoutSeconds)
    }

    /// `POST /v3/public/oauth/token` with a refresh token: a new access token and the refresh
    /// token Etsy issued with it.
    package func refresh(refreshToken: String, now: Double) throws(OutboundError) -> AccessToken {
        do {
            let response = try http.perform(
                "POST", FormEncoding.base(configuration.apiURL) + "/v3/public/oauth/token",
                headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                body: FormEncoding.body([
                    ("grant_type", "refresh_token"), ("client_id", configuration.keystring), ("refresh_token", refreshToken),
                ]))
            var token = try MarketplaceHTTP.token(response, now: now)
            if token.refreshToken?.isEmpty ?? true { token.refreshToken = refreshToken }
            return token
        } catch {
            throw MarketplaceHTTP.tokenError(error)
        }
    }

    /// `GET /v3/application/shops/{shop_id}/receipts/{receipt_id}`: the receipt with its
    /// transactions, as Etsy returns it.
    package func receipt(shopID: String, receiptID: String, token: String) throws(OutboundError) -> [UInt8] {
        let path = "/v3/application/shops/\(FormEncoding.encode(shopID))/receipts/\(FormEncoding.encode(receiptID))"
        return try http.perform(
            "GET", FormEncoding.base(configuration.apiURL) + path,
            headers: [("x-api-key", configuration.apiKeyHeader), ("Authorization", "Bearer \(token)"), ("Accept", "application/json")]
        ).body
    }
}
