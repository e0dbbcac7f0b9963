/// Settings of the marketplace sandbox: the eBay and Etsy clients it knows, and the limits it
/// enforces (the vendors' by default).
public struct MarketplaceSandboxConfiguration: Sendable {
    /// The webhook secret used when none is given (`whsec_` and base64 of 32 bytes).
    public static let defaultEtsyWebhookSecret = "whsec_c3RvY2t5YXJkLW1hcmtldHBsYWNlLXNhbmRib3gtMzI="

    public var host: String
    public var port: Int

    // eBay.
    public var ebayClientID: String
    public var ebayClientSecret: String
    /// The refresh token the user-token grant accepts.
    public var ebayRefreshToken: String
    /// The `kid` of the key that signs notifications.
    public var ebayKeyID: String
    /// Seconds an eBay access token lives.
    public var ebayTokenSeconds: Int
    /// Calls per second to the public-key and order routes before 429.
    public var ebayCallsPerSecond: Int

    // Etsy.
    /// The API keystring: the OAuth client id, and the first half of `x-api-key`.
    public var etsyKeystring: String
    /// The shared secret: the second half of `x-api-key`.
    public var etsySharedSecret: String
    /// The refresh token accepted from the start (those it issues are accepted too).
    public var etsyRefreshToken: String
    /// The user id that starts every token it issues.
    public var etsyUserID: Int
    /// Seconds an Etsy access token lives.
    public var etsyTokenSeconds: Int
    public var etsyCallsPerSecond: Int
    public var etsyCallsPerDay: Int
    /// `whsec_<base64>`: the secret notifications are signed with.
    public var etsyWebhookSecret: String

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        ebayClientID: String = "Stockyard-Sandbox-PRD",
        ebayClientSecret: String = "PRD-sandbox-client-secret",
        ebayRefreshToken: String = "v^1.1#i^1#r^1#sandbox-refresh",
        ebayKeyID: String = "sandbox-key-1",
        ebayTokenSeconds: Int = 7200,
        ebayCallsPerSecond: Int = 50,
        etsyKeystring: String = "sandboxkeystring",
        etsySharedSecret: String = "sandboxsharedsecret",
        etsyRefreshToken: String = "12345678.sandbox-refresh",
        etsyUserID: Int = 12_345_678,
        etsyTokenSeconds: Int = 3600,
        etsyCallsPerSecond: Int = 10,
        etsyCallsPerDay: Int = 10_000,
        etsyWebhookSecret: String = MarketplaceSandboxConfiguration.defaultEtsyWebhookSecret
    ) {
        self.host = host
        self.port = port
        self.ebayClientID = ebayClientID
        self.ebayClientSecret = ebayClientSecret
        self.ebayRefreshToken = ebayRefreshToken
        self.ebayKeyID = ebayKeyID
        self.ebayTokenSeconds = ebayTokenSeconds
        self.ebayCallsPerSecond = ebayCallsPerSecond
        self.etsyKeystring = etsyKeystring
        self.etsySharedSecret = etsySharedSecret
        self.etsyRefreshToken = etsyRefreshToken
        self.etsyUserID = etsyUserID
        self.etsyTokenSeconds = etsyTokenSeconds
        self.etsyCallsPerSecond = etsyCallsPerSecond
        self.etsyCallsPerDay = etsyCallsPerDay
        self.etsyWebhookSecret = etsyWebhookSecret
    }
}

/// A setting the sandbox cannot run with.
public struct MarketplaceSandboxSettingError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
