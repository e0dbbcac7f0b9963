import StockyardChannels
import StockyardCore
import StockyardEngine
import StockyardMarketplaces
import StockyardOutbound
import StockyardRedis
import StockyardZoho

/// Settings of one Shopify shop, by its `X-Shopify-Shop-Domain`.
public struct ShopifyShop: Sendable {
    /// App secrets: the current one first, then the previous one during a rotation.
    public var secrets: [WebhookSecret]
    /// Prefix of this shop's listing and order ids, for shops that keep listings apart.
    public var namespace: String?

    public init(secrets: [WebhookSecret], namespace: String? = nil) {
        self.secrets = secrets
        self.namespace = namespace
    }
}

/// Everything `stockyard serve` needs, validated.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var redis: RedisConfiguration
    /// Bearer token for admin routes and ingest. Never logged.
    public var adminToken: String
    /// Optional extra token accepted by `POST /v1/events` only.
    public var ingestToken: String?
    /// Optional token required by read routes; they are open when unset.
    public var readToken: String?
    /// Largest request body in bytes.
    public var maxBodyBytes: Int
    /// Largest number of events in one `POST /v1/events`.
    public var maxEventsPerRequest: Int
    /// Largest number of events the writer stages in one batch.
    public var maxBatchEvents: Int
    /// Events queued for the writer beyond which new requests get 503.
    public var maxQueuedEvents: Int
    /// Order-line retention in seconds.
    public var lineRetentionSeconds: UInt32
    /// Order lines to make room for up front, so the line table rarely grows under load.
    public var expectedLines: Int
    /// Journal retention in seconds.
    public var journalRetentionSeconds: Int64
    /// Seconds a client should wait before retrying after a 503.
    public var retryAfterSeconds: Int
    /// Shopify app secrets for any shop (current first, then the previous one).
    public var shopifySecrets: [WebhookSecret]
    /// Per-shop secrets and namespaces, by shop domain; a shop listed here uses its own secrets.
    public var shopifyShops: [String: ShopifyShop]
    /// Shared secrets of the Amazon notification bridge (current first).
    public var amazonBridgeSecrets: [WebhookSecret]
    /// How long channel delivery ids are remembered for duplicate detection, in seconds.
    public var deliveryRetentionSeconds: Int64
    /// Most delivery ids remembered in memory.
    public var maxDeliveryIDs: Int
    /// Most listings in one CSV import.
    public var maxImportRows: Int
    /// Zoho sync; nil runs without it (events are still accepted and netted).
    public var zoho: ZohoConfiguration?
    /// Secrets of Zoho's workflow webhooks (HMAC key, or header token), current first.
    public var zohoWebhookSecrets: [WebhookSecret]
    /// Longest a stock correction waits for a Zoho batch in flight on its rows, in seconds.
    public var correctionWaitSeconds: Double
    /// eBay endpoint validation: the verification token and the endpoint URL as registered.
    public var ebayVerificationToken: String?
    public var ebayEndpointURL: String?
    /// eBay notification public keys pinned by `kid` (PEM).
    public var ebayPublicKeys: [String: String]
    /// Etsy's Standard Webhooks secrets (`whsec_…`), current first.
    public var etsyWebhookSecrets: [StandardWebhookSecret]
    /// Seconds a Standard Webhooks timestamp may be off.
    public var etsyToleranceSeconds: Int64
    /// eBay's API (keys by `kid`, order look-ups); nil: pinned keys only, no look-ups.
    public var ebayAPI: EbayAPIConfiguration?
    /// Etsy's API (receipt look-ups); nil: no look-ups.
    public var etsyAPI: EtsyAPIConfiguration?
    /// Retries of look-ups.
    public var lookups: LookupConfiguration
    /// Time limits and the most connections of the HTTP server.
    public var http: HTTPLimits

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        redis: RedisConfiguration = RedisConfiguration(),
        adminToken: String,
        ingestToken: String? = nil,
        readToken: String? = nil,
        maxBodyBytes: Int = 8 * 1024 * 1024,
        maxEventsPerRequest: Int = 10_000,
        maxBatchEvents: Int = 20_000,
        maxQueuedEvents: Int = 500_000,
        lineRetentionSeconds: UInt32 = 120 * 86_400,
        expectedLines: Int = 1_000_000,
        journalRetentionSeconds: Int64 = 7 * 86_400,
        retryAfterSeconds: Int = 1,
        shopifySecrets: [WebhookSecret] = [],
        shopifyShops: [String: ShopifyShop] = [:],
        amazonBridgeSecrets: [WebhookSecret] = [],
        deliveryRetentionSeconds: Int64 = 86_400,
        maxDeliveryIDs: Int = 2_000_000,
        maxImportRows: Int = 200_000,
        zoho: ZohoConfiguration? = nil,
        zohoWebhookSecrets: [WebhookSecret] = [],
        correctionWaitSeconds: Double = 10,
        ebayVerificationToken: String? = nil,
        ebayEndpointURL: String? = nil,
        ebayPublicKeys: [String: String] = [:],
        etsyWebhookSecrets: [StandardWebhookSecret] = [],
        etsyToleranceSeconds: Int64 = 300,
        ebayAPI: EbayAPIConfiguration? = nil,
        etsyAPI: EtsyAPIConfiguration? = nil,
        lookups: LookupConfiguration = LookupConfiguration(),
        http: HTTPLimits = HTTPLimits()
    ) {
        self.host = host
        self.port = port
        self.redis = redis
        self.adminToken = adminToken
        self.ingestToken = ingestToken
        self.readToken = readToken
        self.maxBodyBytes = maxBodyBytes
        self.maxEventsPerRequest = maxEventsPerRequest
        self.maxBatchEvents = maxBatchEvents
        self.maxQueuedEvents = maxQueuedEvents
        self.lineRetentionSeconds = lineRetentionSeconds
        self.expectedLines = expectedLines
        self.journalRetentionSeconds = journalRetentionSeconds
        self.retryAfterSeconds = retryAfterSeconds
        self.shopifySecrets = shopifySecrets
        self.shopifyShops = shopifyShops
        self.amazonBridgeSecrets = amazonBridgeSecrets
        self.deliveryRetentionSeconds = deliveryRetentionSeconds
        self.maxDeliveryIDs = maxDeliveryIDs
        self.maxImportRows = maxImportRows
        self.zoho = zoho
        self.zohoWebhookSecrets = zohoWebhookSecrets
        self.correctionWaitSeconds = correctionWaitSeconds
        self.ebayVerificationToken = ebayVerificationToken
        self.ebayEndpointURL = ebayEndpointURL
        self.ebayPublicKeys = ebayPublicKeys
        self.etsyWebhookSecrets = etsyWebhookSecrets
        self.etsyToleranceSeconds = etsyToleranceSeconds
        self.ebayAPI = ebayAPI
        self.etsyAPI = etsyAPI
        self.lookups = lookups
        self.http = http
    }
}
