import ArgumentParser
import Foundation
import Hummingbird
import Logging
import StockyardDevServers
import StockyardServer

/// Serves the Zoho sandbox.
struct ZohoSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zoho-sandbox",
        abstract: "Serve a Zoho stand-in (token endpoint, adjustments, items, locations) over HTTP.",
        discussion: """
            Point the service at it with STOCKYARD_ZOHO_ACCOUNTS_URL and STOCKYARD_ZOHO_API_URL set to \
            its URL. It keeps its state in memory. GET /sandbox/nets and /sandbox/stats report what it \
            received; PUT /sandbox/faults and /sandbox/items change it.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 8090

    @Option(help: "Organization id it serves.")
    var organizationID = "10234695"

    @Option(help: "OAuth client id it accepts.")
    var clientID = "1000.SANDBOXCLIENT"

    @Option(help: "File holding the client secret it accepts (default: sandbox-client-secret).")
    var clientSecretFile: String?

    @Option(help: "File holding a refresh token it accepts (default: 1000.sandbox.refresh).")
    var refreshTokenFile: String?

    @Option(help: "API calls per minute before 429.")
    var callsPerMinute = 100

    @Option(help: "API calls per day before 429.")
    var callsPerDay = 10_000

    @Option(help: "Seconds an access token lives.")
    var tokenSeconds = 3600

    @Option(name: .customLong("token-requests-per-10-minutes"), help: "Token requests per 10 minutes before the accounts server refuses.")
    var tokenRequests = 10

    @Flag(help: "Refuse adjustments for items it has not been given (PUT /sandbox/items), as Zoho does.")
    var strictItems = false

    func run() async throws {
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: .info) }
        let logger = Logger(label: "zoho-sandbox")
        var configuration = SandboxConfiguration(
            host: host, port: port, organizationID: organizationID, clientID: clientID,
            accessTokenSeconds: Double(tokenSeconds), callsPerMinute: callsPerMinute, callsPerDay: callsPerDay,
            tokenRequestsPer10Minutes: tokenRequests,
            createUnknownItems: !strictItems)
        if let secret = try readSecretFile(clientSecretFile) { configuration.clientSecret = secret }
        if let refresh = try readSecretFile(refreshTokenFile) { configuration.refreshTokens = [refresh] }
        let sandbox = ZohoSandbox(configuration: configuration)
        try await sandbox.makeApplication(logger: logger).runService()
    }
}
