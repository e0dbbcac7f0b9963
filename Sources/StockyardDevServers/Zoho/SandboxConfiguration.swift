/// Settings of the Zoho sandbox: the organization it serves, the OAuth client it knows, and the
/// limits it enforces (Zoho's by default).
public struct SandboxConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var organizationID: String
    public var clientID: String
    public var clientSecret: String
    /// Refresh tokens the accounts server accepts.
    public var refreshTokens: [String]
    /// Grant codes `stockyard zoho authorize` may exchange once each.
    public var grantCodes: [String]
    /// Seconds an access token lives.
    public var accessTokenSeconds: Double
    /// API calls per minute per organization before 429.
    public var callsPerMinute: Int
    /// API calls per day per organization before 429.
    public var callsPerDay: Int
    /// Token requests per 10 minutes before the accounts server refuses.
    public var tokenRequestsPer10Minutes: Int
    /// Live access tokens per refresh token; the oldest is revoked beyond it.
    public var liveTokensPerRefreshToken: Int
    /// Adjustments for items it has never seen create them (for running the service by hand);
    /// when false such a line is refused, as Zoho does.
    public var createUnknownItems: Bool
    /// Items to start with: id, SKU, and stock per location.
    public var items: [SandboxItem]
    public var locations: [String]

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        organizationID: String = "10234695",
        clientID: String = "1000.SANDBOXCLIENT",
        clientSecret: String = "sandbox-client-secret",
        refreshTokens: [String] = ["1000.sandbox.refresh"],
        grantCodes: [String] = [],
        accessTokenSeconds: Double = 3600,
        callsPerMinute: Int = 100,
        callsPerDay: Int = 10_000,
        tokenRequestsPer10Minutes: Int = 10,
        liveTokensPerRefreshToken: Int = 15,
        createUnknownItems: Bool = false,
        items: [SandboxItem] = [],
        locations: [String] = []
    ) {
        self.host = host
        self.port = port
        self.organizationID = organizationID
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.refreshTokens = refreshTokens
        self.grantCodes = grantCodes
        self.accessTokenSeconds = accessTokenSeconds
        self.callsPerMinute = callsPerMinute
        self.callsPerDay = callsPerDay
        self.tokenRequestsPer10Minutes = tokenRequestsPer10Minutes
        self.liveTokensPerRefreshToken = liveTokensPerRefreshToken
        self.createUnknownItems = createUnknownItems
        self.items = items
        self.locations = locations
    }
}

/// An item the sandbox knows.
public struct SandboxItem: Sendable, Hashable, Codable {
    public var itemID: String
    public var sku: String
    /// Stock on hand per location id.
    public var stock: [String: Double]

    public init(itemID: String, sku: String, stock: [String: Double] = [:]) {
        self.itemID = itemID
        self.sku = sku
        self.stock = stock
    }

    enum CodingKeys: String, CodingKey {
        case itemID = "item_id"
        case sku, stock
    }
}

/// Faults the sandbox injects into API calls (not token calls unless said), for tests.
public struct SandboxFaults: Sendable, Hashable, Codable {
    /// Milliseconds added to every API answer.
    public var latencyMilliseconds: Int = 0
    /// Share of calls answered 500 without doing anything.
    public var serverErrorRate: Double = 0
    /// Share of calls held without an answer for `holdSeconds`, doing nothing.
    public var timeoutRate: Double = 0
    /// Share of adjustment creations applied, then held without an answer for `holdSeconds`.
    public var applyThenDropRate: Double = 0
    /// Share of calls answered 429 (a burst, as if other integrations used the quota).
    public var rateLimitRate: Double = 0
    /// Seconds a held call waits before the connection is closed.
    public var holdSeconds: Double = 30
    /// An injected 429's `Retry-After` is an HTTP date (two seconds ahead) instead of seconds (1).
    public var retryAfterAsDate = false

    public init() {}

    enum CodingKeys: String, CodingKey {
        case latencyMilliseconds = "latency_ms"
        case serverErrorRate = "server_error_rate"
        case timeoutRate = "timeout_rate"
        case applyThenDropRate = "apply_then_drop_rate"
        case rateLimitRate = "rate_limit_rate"
        case holdSeconds = "hold_seconds"
        case retryAfterAsDate = "retry_after_as_date"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        latencyMilliseconds = try container.decodeIfPresent(Int.self, forKey: .latencyMilliseconds) ?? 0
        serverErrorRate = try container.decodeIfPresent(Double.self, forKey: .serverErrorRate) ?? 0
        timeoutRate = try container.decodeIfPresent(Double.self, forKey: .timeoutRate) ?? 0
        applyThenDropRate = try container.decodeIfPresent(Double.self, forKey: .applyThenDropRate) ?? 0
        rateLimitRate = try container.decodeIfPresent(Double.self, forKey: .rateLimitRate) ?? 0
        holdSeconds = try container.decodeIfPresent(Double.self, forKey: .holdSeconds) ?? 30
        retryAfterAsDate = try container.decodeIfPresent(Bool.self, forKey: .retryAfterAsDate) ?? false
    }
}
