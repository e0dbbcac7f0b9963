import ArgumentParser
import Foundation
import Hummingbird
import Logging
import StockyardChannels
import StockyardRedis
import StockyardServer

/// Runs the service.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API, backed by Redis.",
        discussion: """
            Every option may also be given in the environment variable named after it; an option on \
            the command line wins. Secrets are best given in the environment or in a file (the \
            *_FILE variants), never on a command line others can read.
            """
    )

    @Option(help: "Address to listen on. Env: STOCKYARD_HOST (default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one. Env: STOCKYARD_PORT (default 8080).")
    var port: String?

    @Option(help: "Redis URL, redis://[:password@]host[:port][/db]. Env: STOCKYARD_REDIS_URL (default redis://127.0.0.1:6379).")
    var redisURL: String?

    @Option(help: "Prefix of every Redis key. Env: STOCKYARD_REDIS_PREFIX (default stockyard).")
    var redisPrefix: String?

    @Option(help: "Bearer token for admin routes (required). Env: STOCKYARD_ADMIN_TOKEN, or STOCKYARD_ADMIN_TOKEN_FILE naming a file.")
    var adminToken: String?

    @Option(help: "Extra bearer token accepted by POST /v1/events only. Env: STOCKYARD_INGEST_TOKEN.")
    var ingestToken: String?

    @Option(help: "Bearer token required by read routes; they are open when unset. Env: STOCKYARD_READ_TOKEN.")
    var readToken: String?

    @Option(help: "Largest request body in bytes. Env: STOCKYARD_MAX_BODY_BYTES (default 8388608).")
    var maxBodyBytes: String?

    @Option(help: "Seconds a connection may wait with no request under way (idle keep-alive, or a request head not yet whole) before it is closed. Env: STOCKYARD_HTTP_IDLE_TIMEOUT (default 30).")
    var httpIdleTimeout: String?

    @Option(help: "Seconds a request may take to arrive whole, head and body, before its connection is closed. Env: STOCKYARD_HTTP_REQUEST_TIMEOUT (default 30).")
    var httpRequestTimeout: String?

    @Option(help: "Most connections open at once; one more is closed as it is accepted. Env: STOCKYARD_MAX_CONNECTIONS (default 512).")
    var maxConnections: String?

    @Option(help: "Days an order line's state is kept after its last change. Env: STOCKYARD_LINE_RETENTION_DAYS (default 120).")
    var lineRetentionDays: String?

    @Option(help: "Order lines to make room for at start, so the line table rarely grows under load. Env: STOCKYARD_EXPECTED_LINES (default 1000000).")
    var expectedLines: String?

    @Option(help: "Days the journal Stream keeps entries. Env: STOCKYARD_JOURNAL_RETENTION_DAYS (default 7).")
    var journalRetentionDays: String?

    @Option(help: "Most entries the writer stores in one group commit. Env: STOCKYARD_MAX_BATCH_EVENTS (default 20000).")
    var maxBatchEvents: String?

    @Option(help: "Shopify app secret(s), comma-separated: the current one first, then the previous one during a rotation. Env: STOCKYARD_SHOPIFY_SECRET, or STOCKYARD_SHOPIFY_SECRET_FILE.")
    var shopifySecret: String?

    @Option(help: "JSON file of per-shop settings: {\"shops\": {\"<shop>.myshopify.com\": {\"secrets\": [\"...\"], \"namespace\": \"...\"}}}. Env: STOCKYARD_SHOPIFY_SHOPS_FILE.")
    var shopifyShopsFile: String?

    @Option(help: "Shared secret(s) of the Amazon notification bridge, comma-separated (current first). Env: STOCKYARD_AMAZON_BRIDGE_SECRET, or STOCKYARD_AMAZON_BRIDGE_SECRET_FILE.")
    var amazonBridgeSecret: String?

    @Option(help: "Secret(s) of Zoho workflow webhooks (HMAC key for X-Stockyard-Signature, or the X-Stockyard-Token value), comma-separated, current first. Env: STOCKYARD_ZOHO_WEBHOOK_SECRET, or STOCKYARD_ZOHO_WEBHOOK_SECRET_FILE.")
    var zohoWebhookSecret: String?

    @Option(help: "eBay endpoint validation token (32 to 80 characters). Env: STOCKYARD_EBAY_VERIFICATION_TOKEN, or STOCKYARD_EBAY_VERIFICATION_TOKEN_FILE.")
    var ebayVerificationToken: String?

    @Option(help: "The public URL eBay delivers notifications to, exactly as registered with eBay. Env: STOCKYARD_EBAY_ENDPOINT_URL.")
    var ebayEndpointURL: String?

    @Option(help: "JSON file of pinned eBay notification keys, {\"<kid>\": \"<PEM>\"}. Env: STOCKYARD_EBAY_PUBLIC_KEYS.")
    var ebayPublicKeys: String?

    @Option(help: "Etsy webhook signing secret(s), whsec_…, comma-separated, current first. Env: STOCKYARD_ETSY_WEBHOOK_SECRET, or STOCKYARD_ETSY_WEBHOOK_SECRET_FILE.")
    var etsyWebhookSecret: String?

    @Option(help: "Hours a channel delivery id is remembered to answer redeliveries at once. Env: STOCKYARD_DELIVERY_RETENTION_HOURS (default 24).")
    var deliveryRetentionHours: String?

    @Option(help: "Most delivery ids remembered in memory (oldest forgotten first). Env: STOCKYARD_MAX_DELIVERY_IDS (default 2000000).")
    var maxDeliveryIDs: String?

    @OptionGroup(title: "Zoho sync")
    var zoho: ZohoOptions

    @OptionGroup(title: "eBay and Etsy APIs (order look-ups)")
    var marketplaces: MarketplaceOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. Env: STOCKYARD_LOG_LEVEL (default info).")
    var logLevel: String?

    @Option(help: "Log format: json or text. Env: STOCKYARD_LOG_FORMAT (default json).")
    var logFormat: String?

    func run() async throws {
        let settings: Settings
        do {
            settings = try Settings(self, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("stockyard: configuration error: \(error.message)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        let level = settings.logLevel
        switch settings.logFormat {
        case .json:
            LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
        case .text:
            LoggingSystem.bootstrap { TextLogHandler(label: $0, level: level) }
        }
        let logger = Logger(label: "stockyard")
        logger.info(
            "starting",
            metadata: [
                "redis": "\(settings.server.redis.host):\(settings.server.redis.port)/\(settings.server.redis.database)",
                "prefix": "\(settings.server.redis.keyPrefix)",
            ])
        let app = StockyardServer.makeApplication(configuration: settings.server, logger: logger)
        try await app.runService()
    }
}

/// Reads settings: the command line first, then the environment.
struct SettingReader {
    var environment: [String: String]

    func value(_ option: String?, _ variable: String) -> String? {
        if let option { return option }
        if let text = environment[variable], !text.isEmpty { return text }
        return nil
    }

    /// A secret, from the option or variable, or from the file named by `<variable>_FILE`.
    func secret(_ option: String?, _ variable: String) throws(SettingError) -> String? {
        if let direct = value(option, variable)?.trimmingCharacters(in: .whitespacesAndNewlines), !direct.isEmpty {
            return direct
        }
        guard let path = environment["\(variable)_FILE"], !path.isEmpty else { return nil }
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SettingError(message: "\(variable)_FILE: cannot read \(path)")
        }
        let trimmed = contents.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw SettingError(message: "\(variable)_FILE: \(path) is empty") }
        return trimmed
    }

    func integer(_ option: String?, _ flag: String, _ variable: String, default fallback: Int, range: ClosedRange<Int>) throws(SettingError) -> Int {
        guard let text = value(option, variable) else { return fallback }
        guard let number = Int(text), range.contains(number) else {
            throw SettingError(message: "--\(flag) / \(variable): '\(text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}

/// A setting that cannot be used, named in the message.
struct SettingError: Error {
    var message: String

    /// The fewest characters of any token or secret that authenticates a caller: the bearer
    /// tokens, the webhook secrets and the shops file's secrets alike. A short one can be guessed
    /// or found by trying, whatever is compared in constant time.
    static let minimumSecretLength = 16

    /// Refuses a token or secret shorter than `minimumSecretLength`, naming its setting (never
    /// its value).
    static func checkLength(_ secret: String, _ setting: String) throws(SettingError) {
        guard secret.count >= minimumSecretLength else {
            throw SettingError(message: "\(setting) must be at least \(minimumSecretLength) characters")
        }
    }
}

/// The resolved settings: command line first, then environment, then defaults.
struct Settings {
    enum LogFormat: String { case json, text }

    var server: ServerConfiguration
    var logLevel: Logger.Level
    var logFormat: LogFormat

    init(_ serve: Serve, environment: [String: String]) throws(SettingError) {
        let reader = SettingReader(environment: environment)
        func value(_ option: String?, _ variable: String) -> String? { reader.value(option, variable) }
        func secret(_ option: String?, _ variable: String) throws(SettingError) -> String? { try reader.secret(option, variable) }
        func integer(_ option: String?, _ flag: String, _ variable: String, default fallback: Int, range: ClosedRange<Int>) throws(SettingError) -> Int {
            try reader.integer(option, flag, variable, default: fallback, range: range)
        }

        let host = value(serve.host, "STOCKYARD_HOST") ?? "127.0.0.1"
        let port = try integer(serve.port, "port", "STOCKYARD_PORT", default: 8080, range: 0...65_535)
        let redisURL = value(serve.redisURL, "STOCKYARD_REDIS_URL") ?? "redis://127.0.0.1:6379"
        let prefix = value(serve.redisPrefix, "STOCKYARD_REDIS_PREFIX") ?? "stockyard"
        guard !prefix.isEmpty, prefix.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw SettingError(message: "--redis-prefix / STOCKYARD_REDIS_PREFIX: use letters, digits, '-', '_' or '.'")
        }
        let redis: RedisConfiguration
        do {
            redis = try RedisConfiguration(url: redisURL, keyPrefix: prefix)
        } catch {
            throw SettingError(message: "--redis-url / STOCKYARD_REDIS_URL: \(error.message)")
        }
        guard let adminToken = try secret(serve.adminToken, "STOCKYARD_ADMIN_TOKEN") else {
            throw SettingError(message: "--admin-token / STOCKYARD_ADMIN_TOKEN is required (admin routes need a bearer token)")
        }
        try SettingError.checkLength(adminToken, "--admin-token / STOCKYARD_ADMIN_TOKEN")
        let ingestToken = value(serve.ingestToken, "STOCKYARD_INGEST_TOKEN")
        let readToken = value(serve.readToken, "STOCKYARD_READ_TOKEN")
        if let ingestToken { try SettingError.checkLength(ingestToken, "--ingest-token / STOCKYARD_INGEST_TOKEN") }
        if let readToken { try SettingError.checkLength(readToken, "--read-token / STOCKYARD_READ_TOKEN") }
        let maxBody = try integer(serve.maxBodyBytes, "max-body-bytes", "STOCKYARD_MAX_BODY_BYTES", default: 8 * 1024 * 1024, range: 1024...(256 * 1024 * 1024))
        let retention = try integer(serve.lineRetentionDays, "line-retention-days", "STOCKYARD_LINE_RETENTION_DAYS", default: 120, range: 1...3650)
        let journal = try integer(serve.journalRetentionDays, "journal-retention-days", "STOCKYARD_JOURNAL_RETENTION_DAYS", default: 7, range: 1...3650)
        let expectedLines = try integer(serve.expectedLines, "expected-lines", "STOCKYARD_EXPECTED_LINES", default: 1_000_000, range: 1_024...200_000_000)
        let batch = try integer(serve.maxBatchEvents, "max-batch-events", "STOCKYARD_MAX_BATCH_EVENTS", default: 20_000, range: 1...1_000_000)
        let http = HTTPLimits(
            idleTimeoutSeconds: try integer(serve.httpIdleTimeout, "http-idle-timeout", "STOCKYARD_HTTP_IDLE_TIMEOUT", default: 30, range: 1...3600),
            requestTimeoutSeconds: try integer(serve.httpRequestTimeout, "http-request-timeout", "STOCKYARD_HTTP_REQUEST_TIMEOUT", default: 30, range: 1...3600),
            maxConnections: try integer(serve.maxConnections, "max-connections", "STOCKYARD_MAX_CONNECTIONS", default: 512, range: 1...1_000_000))

        let deliveryHours = try integer(serve.deliveryRetentionHours, "delivery-retention-hours", "STOCKYARD_DELIVERY_RETENTION_HOURS", default: 24, range: 1...24 * 30)
        let maxDeliveryIDs = try integer(serve.maxDeliveryIDs, "max-delivery-ids", "STOCKYARD_MAX_DELIVERY_IDS", default: 2_000_000, range: 1_000...100_000_000)
        func secretList(_ option: String?, _ variable: String, flag: String) throws(SettingError) -> [WebhookSecret] {
            guard let text = try secret(option, variable) else { return [] }
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !parts.contains(where: \.isEmpty), parts.count <= 2 else {
                throw SettingError(message: "--\(flag) / \(variable): give one secret, or two separated by a comma during a rotation")
            }
            for part in parts { try SettingError.checkLength(part, "--\(flag) / \(variable)") }
            return parts.map { WebhookSecret($0) }
        }
        let shopifySecrets = try secretList(serve.shopifySecret, "STOCKYARD_SHOPIFY_SECRET", flag: "shopify-secret")
        let amazonSecrets = try secretList(serve.amazonBridgeSecret, "STOCKYARD_AMAZON_BRIDGE_SECRET", flag: "amazon-bridge-secret")
        let zohoSecrets = try secretList(serve.zohoWebhookSecret, "STOCKYARD_ZOHO_WEBHOOK_SECRET", flag: "zoho-webhook-secret")
        var etsySecrets: [StandardWebhookSecret] = []
        if let text = try secret(serve.etsyWebhookSecret, "STOCKYARD_ETSY_WEBHOOK_SECRET") {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count <= 2 else {
                throw SettingError(message: "--etsy-webhook-secret / STOCKYARD_ETSY_WEBHOOK_SECRET: give one secret, or two separated by a comma during a rotation")
            }
            for part in parts {
                try SettingError.checkLength(part, "--etsy-webhook-secret / STOCKYARD_ETSY_WEBHOOK_SECRET")
                guard let parsed = StandardWebhookSecret(part) else {
                    throw SettingError(message: "--etsy-webhook-secret / STOCKYARD_ETSY_WEBHOOK_SECRET: expected whsec_ followed by base64")
                }
                etsySecrets.append(parsed)
            }
        }
        let ebayToken = try secret(serve.ebayVerificationToken, "STOCKYARD_EBAY_VERIFICATION_TOKEN")
        if let ebayToken {
            guard (32...80).contains(ebayToken.count), ebayToken.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw SettingError(message: "--ebay-verification-token / STOCKYARD_EBAY_VERIFICATION_TOKEN: use 32 to 80 letters, digits, '_' or '-' (eBay's rule)")
            }
        }
        let ebayURL = try value(serve.ebayEndpointURL, "STOCKYARD_EBAY_ENDPOINT_URL").map { (url) throws(SettingError) in
            try ZohoOptions.checkURL(url, "--ebay-endpoint-url / STOCKYARD_EBAY_ENDPOINT_URL")
        }
        var ebayKeys: [String: String] = [:]
        if let path = value(serve.ebayPublicKeys, "STOCKYARD_EBAY_PUBLIC_KEYS") {
            let flag = "--ebay-public-keys / STOCKYARD_EBAY_PUBLIC_KEYS"
            guard let data = FileManager.default.contents(atPath: path) else { throw SettingError(message: "\(flag): cannot read \(path)") }
            guard let keys = try? JSONDecoder().decode([String: String].self, from: data) else {
                throw SettingError(message: "\(flag): \(path) is not {\"<kid>\": \"<PEM>\"}")
            }
            for (kid, pem) in keys where !EbaySignature.isPublicKey(pem) {
                throw SettingError(message: "\(flag): the key for \(kid) is not a P-256 public key")
            }
            ebayKeys = keys
        }
        var shops: [String: ShopifyShop] = [:]
        if let path = value(serve.shopifyShopsFile, "STOCKYARD_SHOPIFY_SHOPS_FILE") {
            shops = try Self.readShops(path)
        }

        let levelText = value(serve.logLevel, "STOCKYARD_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else {
            throw SettingError(message: "--log-level / STOCKYARD_LOG_LEVEL: '\(levelText)' is not a log level")
        }
        let formatText = value(serve.logFormat, "STOCKYARD_LOG_FORMAT") ?? "json"
        guard let format = LogFormat(rawValue: formatText) else {
            throw SettingError(message: "--log-format / STOCKYARD_LOG_FORMAT: '\(formatText)' is not json or text")
        }
        logLevel = level
        logFormat = format
        server = ServerConfiguration(
            host: host,
            port: port,
            redis: redis,
            adminToken: adminToken,
            ingestToken: ingestToken,
            readToken: readToken,
            maxBodyBytes: maxBody,
            maxBatchEvents: batch,
            lineRetentionSeconds: UInt32(retention * 86_400),
            expectedLines: expectedLines,
            journalRetentionSeconds: Int64(journal) * 86_400,
            shopifySecrets: shopifySecrets,
            shopifyShops: shops,
            amazonBridgeSecrets: amazonSecrets,
            deliveryRetentionSeconds: Int64(deliveryHours) * 3600,
            maxDeliveryIDs: maxDeliveryIDs,
            zoho: try serve.zoho.configuration(reader),
            zohoWebhookSecrets: zohoSecrets,
            ebayVerificationToken: ebayToken,
            ebayEndpointURL: ebayURL,
            ebayPublicKeys: ebayKeys,
            etsyWebhookSecrets: etsySecrets,
            ebayAPI: try serve.marketplaces.ebay(reader),
            etsyAPI: try serve.marketplaces.etsy(reader),
            lookups: try serve.marketplaces.lookups(reader),
            http: http
        )
    }

    /// Reads the per-shop settings file.
    static func readShops(_ path: String) throws(SettingError) -> [String: ShopifyShop] {
        struct File: Decodable {
            struct Shop: Decodable {
                var secrets: [String]
                var namespace: String?
            }
            var shops: [String: Shop]
        }
        let flag = "--shopify-shops-file / STOCKYARD_SHOPIFY_SHOPS_FILE"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SettingError(message: "\(flag): cannot read \(path)")
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw SettingError(message: "\(flag): \(path) is not {\"shops\": {\"<domain>\": {\"secrets\": [...], \"namespace\": ...}}}")
        }
        var shops: [String: ShopifyShop] = [:]
        for (domain, shop) in file.shops {
            let secrets = shop.secrets.map { $0.trimmingCharacters(in: .whitespaces) }
            guard !secrets.isEmpty, secrets.count <= 2, !secrets.contains(where: \.isEmpty) else {
                throw SettingError(message: "\(flag): shop \(domain) needs one or two non-empty secrets")
            }
            for secret in secrets { try SettingError.checkLength(secret, "\(flag): shop \(domain)") }
            if let namespace = shop.namespace {
                guard !namespace.isEmpty, namespace.count <= 64, !namespace.contains(where: { $0.isWhitespace || $0 == ":" || $0.asciiValue.map { $0 < 0x20 } == true }) else {
                    throw SettingError(message: "\(flag): shop \(domain) has a namespace that is empty, too long or holds spaces or ':'")
                }
            }
            shops[domain.lowercased()] = ShopifyShop(secrets: secrets.map { WebhookSecret($0) }, namespace: shop.namespace)
        }
        return shops
    }
}
