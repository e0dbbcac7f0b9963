import Foundation
import StockyardHTTPClient

/// Etsy's Open API v3 over libcurl: the OAuth token refresh and shop receipts. One per thread.
final class EtsyAPIClient {
    private let http: MarketplaceHTTP
    private let configuration: EtsyAPIConfiguration

    init(configuration: EtsyAPIConfiguration) {
        self.configuration = configuration
        self.http = MarketplaceHTTP(connectTimeout: configuration.connectTimeoutSeconds, totalTimeout: configuration.totalTimeoutSeconds)
    }

    /// `POST /v3/public/oauth/token` with a refresh token: a new access token and the refresh
    /// token Etsy issued with it.
    func refresh(refreshToken: String, now: Double) throws(MarketplaceAPIError) -> MarketplaceToken {
        do {
            let response = try http.perform(
                "POST", configuration.apiURL.withoutTrailingSlash + "/v3/public/oauth/token",
                headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                body: MarketplaceHTTP.form([
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
    func receipt(shopID: String, receiptID: String, token: String) throws(MarketplaceAPIError) -> [UInt8] {
        let path = "/v3/application/shops/\(MarketplaceHTTP.segment(shopID))/receipts/\(MarketplaceHTTP.segment(receiptID))"
        return try http.perform(
            "GET", configuration.apiURL.withoutTrailingSlash + path,
            headers: [("x-api-key", configuration.apiKeyHeader), ("Authorization", "Bearer \(token)"), ("Accept", "application/json")]
        ).body
    }
}
