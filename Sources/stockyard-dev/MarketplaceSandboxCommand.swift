import ArgumentParser
import Foundation
import Hummingbird
import Logging
import StockyardDevServers
import StockyardServer

/// Serves the eBay and Etsy sandbox.
struct MarketplaceSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marketplace-sandbox",
        abstract: "Serve an eBay and Etsy stand-in (tokens, order and receipt look-ups, signed notifications) over HTTP.",
        discussion: """
            eBay: POST /identity/v1/oauth2/token, GET /commerce/notification/v1/public_key/{kid}, \
            GET /sell/fulfillment/v1/order/{orderId}. Etsy: POST /v3/public/oauth/token, \
            GET /v3/application/shops/{shop_id}/receipts/{receipt_id}. It keeps its state in memory. \
            POST /sandbox/ebay/orders and /sandbox/etsy/shops/{shop_id}/receipts store orders and \
            receipts and answer the signed notification each vendor would send; \
            GET /sandbox/ebay/public-keys, PUT /sandbox/faults and GET /sandbox/stats. \
            The eBay signing key is made afresh at each start.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 8091

    @Option(help: "eBay OAuth client id (App ID) it accepts.")
    var ebayClientID = "Stockyard-Sandbox-PRD"

    @Option(help: "File holding the eBay client secret (Cert ID) it accepts (default: PRD-sandbox-client-secret).")
    var ebayClientSecretFile: String?

    @Option(help: "File holding the eBay refresh token it accepts (default: v^1.1#i^1#r^1#sandbox-refresh).")
    var ebayRefreshTokenFile: String?

    @Option(help: "Key id (kid) of the key that signs eBay notifications.")
    var ebayKeyID = "sandbox-key-1"

    @Option(help: "Seconds an eBay access token lives.")
    var ebayTokenSeconds = 7200

    @Option(help: "eBay public-key and order calls per second before 429.")
    var ebayCallsPerSecond = 50

    @Option(help: "Etsy API keystring (the OAuth client id) it accepts.")
    var etsyKeystring = "sandboxkeystring"

    @Option(help: "File holding the Etsy shared secret; x-api-key must be <keystring>:<shared secret> (default: sandboxsharedsecret).")
    var etsySharedSecretFile: String?

    @Option(help: "File holding an Etsy refresh token it accepts, besides those it issues (default: 12345678.sandbox-refresh).")
    var etsyRefreshTokenFile: String?

    @Option(help: "Etsy user id that starts the tokens it issues.")
    var etsyUserID = 12_345_678

    @Option(help: "Seconds an Etsy access token lives.")
    var etsyTokenSeconds = 3600

    @Option(help: "Etsy receipt calls per second before 429.")
    var etsyCallsPerSecond = 10

    @Option(help: "Etsy receipt calls per day (UTC) before 429.")
    var etsyCallsPerDay = 10_000

    @Option(help: "File holding the Etsy webhook signing secret, whsec_<base64> (default: \(MarketplaceSandboxConfiguration.defaultEtsyWebhookSecret)).")
    var etsyWebhookSecretFile: String?

    func run() async throws {
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: .info) }
        let logger = Logger(label: "marketplace-sandbox")
        var configuration = MarketplaceSandboxConfiguration(
            host: host, port: port, ebayClientID: ebayClientID, ebayKeyID: ebayKeyID, ebayTokenSeconds: ebayTokenSeconds,
            ebayCallsPerSecond: ebayCallsPerSecond, etsyKeystring: etsyKeystring, etsyUserID: etsyUserID,
            etsyTokenSeconds: etsyTokenSeconds, etsyCallsPerSecond: etsyCallsPerSecond, etsyCallsPerDay: etsyCallsPerDay)
        if let secret = try readSecretFile(ebayClientSecretFile) { configuration.ebayClientSecret = secret }
        if let refresh = try readSecretFile(ebayRefreshTokenFile) { configuration.ebayRefreshToken = refresh }
        if let secret = try readSecretFile(etsySharedSecretFile) { configuration.etsySharedSecret = secret }
        if let refresh = try readSecretFile(etsyRefreshTokenFile) { configuration.etsyRefreshToken = refresh }
        if let secret = try readSecretFile(etsyWebhookSecretFile) { configuration.etsyWebhookSecret = secret }
        let sandbox: MarketplaceSandbox
        do {
            sandbox = try MarketplaceSandbox(configuration: configuration)
        } catch {
            FileHandle.standardError.write(Data("stockyard-dev: configuration error: \(error.description)\n".utf8))
            throw ExitCode(78)
        }
        try await sandbox.makeApplication(logger: logger).runService()
    }
}
