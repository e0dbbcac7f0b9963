import Foundation

/// A failed call to eBay's or Etsy's API. Messages carry what the vendor said, never a token.
public struct MarketplaceAPIError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// 429: wait `retryAfter`, then try again; not a failed attempt.
        public static let rateLimited = Code("rate_limited")
        /// 401: the access token is not (or no longer) accepted.
        public static let unauthorized = Code("unauthorized")
        /// 403: the token or API key lacks the permission.
        public static let forbidden = Code("forbidden")
        /// 404: the order, receipt or key is not known (yet).
        public static let notFound = Code("not_found")
        /// Another 4xx.
        public static let rejected = Code("rejected")
        /// 5xx.
        public static let serverError = Code("server_error")
        /// No answer: connection refused, reset, timed out.
        public static let network = Code("network")
        /// An answer that does not read as the documented shape.
        public static let invalidResponse = Code("invalid_response")
        /// The token endpoint refused the client or the refresh token: a person must fix the
        /// credentials; nothing is retried until then.
        public static let credentialsRejected = Code("credentials_rejected")
        /// Too many token requests lately.
        public static let tokenRequestLimit = Code("token_request_limit")
        /// The channel's API is not configured.
        public static let notConfigured = Code("not_configured")
    }

    public var code: Code
    public var status: Int?
    public var message: String
    /// Seconds the vendor asked us to wait (429, 503).
    public var retryAfter: Double?

    public init(_ code: Code, status: Int? = nil, message: String, retryAfter: Double? = nil) {
        self.code = code
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String {
        var text = code.rawValue
        if let status { text += " (HTTP \(status))" }
        return text + ": " + message
    }
}

/// An access token of a marketplace, with the refresh token that came with it (Etsy rotates them).
struct MarketplaceToken: Codable, Sendable, Equatable {
    var accessToken: String
    /// Seconds since 1970.
    var expiresAt: Double
    var refreshToken: String?

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case expiresAt = "expires_at"
        case refreshToken = "refresh_token"
    }
}
