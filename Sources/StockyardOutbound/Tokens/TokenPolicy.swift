/// How a credential's tokens are asked for: the vendor's limit on token requests, and what to
/// do when the vendor refuses the credentials.
public struct TokenPolicy: Sendable {
    /// What a refusal of the client or refresh token means.
    public enum Refusal: Sendable, Equatable {
        /// Nothing more is asked until the service is restarted with new credentials (Zoho: a
        /// person must authorize again).
        case untilRestart
        /// Asked again after this many seconds, in case a person fixed the credentials meanwhile.
        case retryAfter(Double)
    }

    /// Five minutes: the longest a token is replaced ahead of its expiry.
    public static let maximumRefreshMargin = 300.0

    /// Token requests allowed per `windowSeconds`, counted across restarts (Zoho: 10 per 10 minutes).
    public var requestsPerWindow: Int
    public var windowSeconds: Double
    public var refusal: Refusal

    public init(requestsPerWindow: Int = 10, windowSeconds: Double = 600, refusal: Refusal) {
        self.requestsPerWindow = requestsPerWindow
        self.windowSeconds = windowSeconds
        self.refusal = refusal
    }
}
