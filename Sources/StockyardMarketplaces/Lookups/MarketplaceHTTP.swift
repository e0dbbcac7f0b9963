import Foundation
import StockyardOutbound

/// What eBay's and Etsy's clients share: one libcurl handle, and the reading of answers into
/// `OutboundError`s (eBay's `errors[]` envelope, Etsy's and OAuth's `error` field).
package struct MarketplaceHTTP {
    package let http: CurlHTTPClient

    package init(connectTimeout: Double, totalTimeout: Double) {
        http = CurlHTTPClient(configuration: .init(connectTimeout: connectTimeout, totalTimeout: totalTimeout))
    }

    /// Performs a request; any status but 2xx becomes an error.
    package func perform(
        _ method: String, _ url: String, headers: [(String, String)], body: [UInt8]? = nil
    ) throws(OutboundError) -> HTTPClientResponse {
        let response = try http.exchange(method, url, headers: headers, body: body)
        guard !(200..<300).contains(response.status) else { return response }
        throw OutboundError.from(
            status: response.status, message: Self.errorMessage(response.body) ?? "HTTP \(response.status)",
            retryAfter: response.retryAfter(), idempotent: CurlHTTPClient.isIdempotent(method))
    }

    /// A JSON object answer.
    package static func object(_ response: HTTPClientResponse) throws(OutboundError) -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] else {
            throw OutboundError(.invalidResponse, status: response.status, message: "the answer is not a JSON object")
        }
        return object
    }

    /// An OAuth token answer (`access_token`, `expires_in`, maybe `refresh_token`).
    package static func token(_ response: HTTPClientResponse, now: Double) throws(OutboundError) -> AccessToken {
        let object = try object(response)
        guard let access = object["access_token"] as? String, !access.isEmpty else {
            throw OutboundError(.invalidResponse, status: response.status, message: "the token answer has no access_token")
        }
        let lifetime = (object["expires_in"] as? NSNumber)?.doubleValue ?? 3600
        return AccessToken(accessToken: access, expiresAt: now + lifetime, issuedAt: now, refreshToken: object["refresh_token"] as? String)
    }

    /// A token endpoint's refusal of the client or the grant (OAuth's `invalid_client`,
    /// `invalid_grant`, `unauthorized_client`): not worth retrying soon. Other failures stay
    /// what they are.
    package static func tokenError(_ error: OutboundError) -> OutboundError {
        guard error.code == .rejected || error.code == .unauthorized,
            ["invalid_client", "invalid_grant", "unauthorized_client"].contains(where: { error.message.hasPrefix($0) })
        else { return error }
        var refused = error
        refused.code = .credentialsRejected
        return refused
    }

    /// The vendor's own words: eBay `errors[0].message`, or OAuth's and Etsy's `error` (with
    /// `error_description`).
    package static func errorMessage(_ body: [UInt8]) -> String? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return nil }
        if let errors = object["errors"] as? [[String: Any]], let first = errors.first {
            let id = (first["errorId"] as? NSNumber).map { " (error \($0))" } ?? ""
            return ((first["message"] as? String) ?? "error") + id
        }
        if let error = object["error"] as? String {
            return (object["error_description"] as? String).map { "\(error): \($0)" } ?? error
        }
        return nil
    }
}
