import Foundation
import StockyardOutbound

/// eBay's REST APIs over libcurl: OAuth tokens (`/identity/v1/oauth2/token`), notification
/// public keys and Fulfillment orders. One per thread: a libcurl handle is not thread-safe.
package final class EbayAPIClient {
    /// The application scope eBay requires for `getPublicKey`.
    package static let applicationScope = "https://api.ebay.com/oauth/api_scope"

    private let http: MarketplaceHTTP
    private let configuration: EbayAPIConfiguration

    package init(configuration: EbayAPIConfiguration) {
        self.configuration = configuration
        self.http = MarketplaceHTTP(connectTimeout: configuration.connectTimeoutSeconds, totalTimeout: configuration.totalTimeoutSeconds)
    }

    /// An application token (client credentials grant), for the notification public keys.
    package func applicationToken(now: Double) throws(OutboundError) -> AccessToken {
        try tokenCall([("grant_type", "client_credentials"), ("scope", Self.applicationScope)], now: now)
    }

    /// The seller's user token from their refresh token, for the Fulfillment API. The scopes
    /// are those the seller granted.
    package func userToken(refreshToken: String, now: Double) throws(OutboundError) -> AccessToken {
        var token = try tokenCall([("grant_type", "refresh_token"), ("refresh_token", refreshToken)], now: now)
        token.refreshToken = nil
        return token
    }

    private func tokenCall(_ fields: [(String, String)], now: Double) throws(OutboundError) -> AccessToken {
        let basic = Data("\(configuration.clientID):\(configuration.clientSecret)".utf8).base64EncodedString()
        do {
            let response = try http.perform(
                "POST", FormEncoding.base(configuration.apiURL) + "/identity/v1/oauth2/token",
                headers: [("Authorization", "Basic \(basic)"), ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                body: FormEncoding.body(fields))
            return try MarketplaceHTTP.token(response, now: now)
        } catch {
            throw MarketplaceHTTP.tokenError(error)
        }
    }

    /// `GET /commerce/notification/v1/public_key/{kid}`: the PEM of the key that signs notifications.
    package func publicKey(keyID: String, token: String) throws(OutboundError) -> String {
        let response = try get("/commerce/notification/v1/public_key/" + FormEncoding.encode(keyID), token: token)
        let object = try MarketplaceHTTP.object(response)
        guard let key = object["key"] as? String, !key.isEmpty else {
            throw OutboundError(.invalidResponse, status: response.status, message: "the public key answer has no key")
        }
        if let digest = object["digest"] as? String, digest.uppercased() != "SHA1" {
            throw OutboundError(.invalidResponse, status: response.status, message: "the public key is for digest \(digest), not SHA1")
        }
        return key
    }

    /// `GET /sell/fulfillment/v1/order/{orderId}`: the order as eBay returns it.
    package func order(_ orderID: String, token: String) throws(OutboundError) -> [UInt8] {
        try get("/sell/fulfillment/v1/order/" + FormEncoding.encode(orderID), token: token).body
    }

    private func get(_ path: String, token: String) throws(OutboundError) -> HTTPClientResponse {
        try http.perform(
            "GET", FormEncoding.base(configuration.apiURL) + path,
            headers: [("Authorization", "Bearer \(token)"), ("Accept", "application/json")])
    }
}
