/// A failed Zoho call: what happened, what Zoho said, and whether the request can have changed
/// anything on Zoho's side.
public struct ZohoError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure, for deciding what to do next.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// 429: too many calls; wait for `retryAfter`.
        public static let rateLimited = Code("rate_limited")
        /// 401, or Zoho code 57 / 14: the access token is expired or not accepted.
        public static let unauthorized = Code("unauthorized")
        /// The refresh token is invalid or revoked (`invalid_code`): a person must authorize again.
        public static let refreshTokenRejected = Code("refresh_token_rejected")
        /// Too many token requests lately.
        public static let tokenRequestLimit = Code("token_request_limit")
        /// Another 4xx: Zoho refused the request as it stands.
        public static let rejected = Code("rejected")
        /// 5xx.
        public static let server = Code("server_error")
        /// The exchange did not complete (connect, timeout, reset).
        public static let network = Code("network")
        /// A 2xx answer that could not be read.
        public static let invalidResponse = Code("invalid_response")
        /// The day's call budget is spent.
        public static let quotaExhausted = Code("quota_exhausted")
        /// Not sent: the service is stopping, or the sync is not configured.
        public static let notSent = Code("not_sent")
    }

    public var code: Code
    public var httpStatus: Int?
    /// Zoho's own `code` from the body, when there was one.
    public var zohoCode: Int?
    public var message: String
    /// Seconds Zoho asked to wait.
    public var retryAfter: Double?
    /// False when Zoho may have applied the request (timeout after sending, 5xx, reset).
    public var outcomeKnown: Bool

    public init(
        _ code: Code, httpStatus: Int? = nil, zohoCode: Int? = nil, message: String, retryAfter: Double? = nil,
        outcomeKnown: Bool
    ) {
        self.code = code
        self.httpStatus = httpStatus
        self.zohoCode = zohoCode
        self.message = message
        self.retryAfter = retryAfter
        self.outcomeKnown = outcomeKnown
    }

    public var description: String {
        var text = "Zoho \(code)"
        if let httpStatus { text += " (HTTP \(httpStatus))" }
        if let zohoCode { text += " code \(zohoCode)" }
        text += ": \(message)"
        if let retryAfter { text += "; retry after \(retryAfter) s" }
        if !outcomeKnown { text += "; outcome unknown" }
        return text
    }
}
