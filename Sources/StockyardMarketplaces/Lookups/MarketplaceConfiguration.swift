import Foundation

/// eBay's API, for notification keys and order look-ups.
public struct EbayAPIConfiguration: Sendable {
    /// `https://api.ebay.com` (or `https://api.sandbox.ebay.com`, or a local sandbox).
    public var apiURL: String
    public var clientID: String
    public var clientSecret: String
    /// The seller's refresh token (authorization code grant, `sell.fulfillment.readonly`);
    /// without it notifications are verified but orders cannot be looked up.
    public var refreshToken: String?
    /// How long a fetched public key is used before it is fetched again.
    public var keyCacheSeconds: Double
    /// Order look-ups per second, at most.
    public var lookupsPerSecond: Double
    /// Look-ups under way at once.
    public var concurrency: Int
    public var connectTimeoutSeconds: Double
    public var totalTimeoutSeconds: Double

    public init(
        apiURL: String = "https://api.ebay.com", clientID: String, clientSecret: String, refreshToken: String? = nil,
        keyCacheSeconds: Double = 3600, lookupsPerSecond: Double = 20, concurrency: Int = 4,
        connectTimeoutSeconds: Double = 5, totalTimeoutSeconds: Double = 15
    ) {
        self.apiURL = apiURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.refreshToken = refreshToken
        self.keyCacheSeconds = keyCacheSeconds
        self.lookupsPerSecond = lookupsPerSecond
        self.concurrency = concurrency
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.totalTimeoutSeconds = totalTimeoutSeconds
    }
}

/// Etsy's Open API v3, for receipt look-ups.
public struct EtsyAPIConfiguration: Sendable {
    /// `https://api.etsy.com` (or a local sandbox).
    public var apiURL: String
    /// The app's keystring (also its OAuth client id).
    public var keystring: String
    /// The app's shared secret, sent after the keystring in `x-api-key` as Etsy requires.
    public var sharedSecret: String?
    /// The shop owner's refresh token; Etsy issues a new one with each refresh, which is kept.
    public var refreshToken: String
    /// Etsy allows 10 requests per second per app by default: stay under it.
    public var lookupsPerSecond: Double
    public var concurrency: Int
    public var connectTimeoutSeconds: Double
    public var totalTimeoutSeconds: Double

    public init(
        apiURL: String = "https://api.etsy.com", keystring: String, sharedSecret: String?, refreshToken: String,
        lookupsPerSecond: Double = 8, concurrency: Int = 2, connectTimeoutSeconds: Double = 5, totalTimeoutSeconds: Double = 15
    ) {
        self.apiURL = apiURL
        self.keystring = keystring
        self.sharedSecret = sharedSecret
        self.refreshToken = refreshToken
        self.lookupsPerSecond = lookupsPerSecond
        self.concurrency = concurrency
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.totalTimeoutSeconds = totalTimeoutSeconds
    }

    /// `x-api-key`: `keystring:shared_secret`, or the keystring alone.
    package var apiKeyHeader: String { sharedSecret.map { keystring + ":" + $0 } ?? keystring }
}

/// How look-up jobs are retried.
public struct LookupConfiguration: Sendable {
    /// Failed attempts (errors other than rate limits) before a job becomes a dead letter.
    public var maxAttempts: Int
    /// Wait after the first failure; it doubles with each further failure, with jitter.
    public var firstBackoffSeconds: Double
    public var maxBackoffSeconds: Double
    /// Jobs waiting at most; beyond it notifications are answered 503 (the channel delivers
    /// them again later), so a flood cannot grow memory and Redis without bound.
    public var maxBacklog: Int

    public init(
        maxAttempts: Int = 10, firstBackoffSeconds: Double = 2, maxBackoffSeconds: Double = 600,
        maxBacklog: Int = 1_000_000
    ) {
        self.maxAttempts = maxAttempts
        self.firstBackoffSeconds = firstBackoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
        self.maxBacklog = maxBacklog
    }

    /// Seconds to wait after the `attempts`-th failure: doubling, capped, with ±20% jitter.
    package func backoff(afterAttempts attempts: Int) -> Double {
        let base = min(maxBackoffSeconds, firstBackoffSeconds * pow(2, Double(max(0, attempts - 1))))
        return base * Double.random(in: 0.8...1.2)
    }
}
