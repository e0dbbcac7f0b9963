/// A failed call to a vendor's API (Zoho, eBay, Etsy, and every client after them): what
/// happened, what the vendor said, and whether the request can have changed anything on the
/// vendor's side. Messages carry what the vendor said, never a token or a secret.
public struct OutboundError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure, for deciding what to do next. A closed set: callers switch on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// 429: too many calls; wait `retryAfter`, then try again. Not a failed attempt.
        public static let rateLimited = Code("rate_limited")
        /// 401 (or the vendor's own code for it): the access token is expired or not accepted.
        public static let unauthorized = Code("unauthorized")
        /// 403: the token or key lacks the permission.
        public static let forbidden = Code("forbidden")
        /// 404: the resource is not known (yet).
        public static let notFound = Code("not_found")
        /// Another 4xx: the vendor refused the request as it stands.
        public static let rejected = Code("rejected")
        /// 5xx.
        public static let serverError = Code("server_error")
        /// The exchange did not complete: connection refused, reset, timed out.
        public static let network = Code("network")
        /// An answer that does not read as the documented shape.
        public static let invalidResponse = Code("invalid_response")
        /// The token endpoint refused the client or the refresh token: a person must fix the
        /// credentials (or authorize again); nothing is asked again until the refusal policy says.
        public static let credentialsRejected = Code("credentials_rejected")
        /// Too many token requests lately (ours, counted across restarts, or the vendor's answer).
        public static let tokenRequestLimit = Code("token_request_limit")
        /// The day's call budget is spent.
        public static let quotaExhausted = Code("quota_exhausted")
        /// Not sent: the service is stopping, a deadline passed, or the call could not be
        /// recorded against the limits first.
        public static let notSent = Code("not_sent")
        /// The vendor's API is not configured.
        public static let notConfigured = Code("not_configured")
    }

    public var code: Code
    /// The HTTP status, when an answer came.
    public var status: Int?
    /// The vendor's own error code from the body (Zoho's `code`), when there was one.
    public var vendorCode: Int?
    public var message: String
    /// Seconds the vendor asked us to wait (429, 503).
    public var retryAfter: Double?
    /// False when the vendor may have applied the request (a write that timed out after it was
    /// sent, a 5xx, a reset): the caller must find out before sending it again.
    public var outcomeKnown: Bool

    public init(
        _ code: Code, status: Int? = nil, vendorCode: Int? = nil, message: String, retryAfter: Double? = nil,
        outcomeKnown: Bool = true
    ) {
        self.code = code
        self.status = status
        self.vendorCode = vendorCode
        self.message = message
        self.retryAfter = retryAfter
        self.outcomeKnown = outcomeKnown
    }

    public var description: String {
        var text = code.rawValue
        if let status { text += " (HTTP \(status))" }
        if let vendorCode { text += " code \(vendorCode)" }
        text += ": \(message)"
        if let retryAfter { text += "; retry after \(retryAfter) s" }
        if !outcomeKnown { text += "; outcome unknown" }
        return text
    }

    /// Read from an HTTP answer that is not 2xx: the code by status, and whether a request that
    /// reached the vendor can have changed anything (`idempotent` requests change nothing twice).
    public static func from(
        status: Int, message: String, vendorCode: Int? = nil, retryAfter: Double?, idempotent: Bool
    ) -> OutboundError {
        let code: Code
        switch status {
        case 429: code = .rateLimited
        case 401: code = .unauthorized
        case 403: code = .forbidden
        case 404: code = .notFound
        case 500...: code = .serverError
        default: code = .rejected
        }
        return OutboundError(
            code, status: status, vendorCode: vendorCode, message: message, retryAfter: retryAfter,
            outcomeKnown: code != .serverError || idempotent)
    }

    /// The exchange failed in `client`: unknown when a request that changes something may have
    /// been sent.
    public static func network(_ error: CurlError, idempotent: Bool) -> OutboundError {
        OutboundError(.network, message: error.message, outcomeKnown: error.outcomeKnown || idempotent)
    }
}
