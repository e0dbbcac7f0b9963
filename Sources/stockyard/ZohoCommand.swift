import ArgumentParser
import Foundation
import Hummingbird
import Logging
import StockyardServer
import StockyardOutbound
import StockyardZoho

/// Zoho tools: the one-time exchange of a grant code.
struct ZohoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zoho",
        abstract: "Zoho tools: authorize (grant code to refresh token).",
        subcommands: [Authorize.self]
    )

    /// Exchanges a grant code from Zoho's API console for a refresh token.
    struct Authorize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exchange a one-time grant code for a refresh token, printed on standard output.",
            discussion: """
                Create a self client in Zoho's API console with the scopes \
                ZohoInventory.inventoryadjustments.CREATE,ZohoInventory.inventoryadjustments.READ,\
                ZohoInventory.items.READ,ZohoInventory.settings.READ, generate a grant code, and run this \
                within its lifetime. Give the client secret and code in the environment \
                (STOCKYARD_ZOHO_CLIENT_SECRET, STOCKYARD_ZOHO_GRANT_CODE) rather than on the command line.
                """
        )

        @Option(name: .customLong("zoho-dc"), help: "Data centre (default com). Env: STOCKYARD_ZOHO_DC.")
        var dataCenter: String?

        @Option(name: .customLong("zoho-accounts-url"), help: "Accounts server URL instead of the data centre's. Env: STOCKYARD_ZOHO_ACCOUNTS_URL.")
        var accountsURL: String?

        @Option(name: .customLong("zoho-client-id"), help: "OAuth client id. Env: STOCKYARD_ZOHO_CLIENT_ID.")
        var clientID: String?

        @Option(name: .customLong("zoho-client-secret"), help: "OAuth client secret. Env: STOCKYARD_ZOHO_CLIENT_SECRET(_FILE).")
        var clientSecret: String?

        @Option(name: .customLong("code"), help: "The grant code. Env: STOCKYARD_ZOHO_GRANT_CODE.")
        var code: String?

        @Option(name: .customLong("redirect-uri"), help: "Redirect URI registered with the client, if any.")
        var redirectURI: String?

        func run() async throws {
            let reader = SettingReader(environment: ProcessInfo.processInfo.environment)
            do {
                let accounts = try ZohoOptions.accountsServer(reader, dataCenter: dataCenter, accountsURL: accountsURL)
                guard let client = reader.value(clientID, "STOCKYARD_ZOHO_CLIENT_ID") else {
                    throw SettingError(message: "--zoho-client-id / STOCKYARD_ZOHO_CLIENT_ID is required")
                }
                guard let secret = try reader.secret(clientSecret, "STOCKYARD_ZOHO_CLIENT_SECRET") else {
                    throw SettingError(message: "--zoho-client-secret / STOCKYARD_ZOHO_CLIENT_SECRET is required")
                }
                guard let grant = try reader.secret(code, "STOCKYARD_ZOHO_GRANT_CODE") else {
                    throw SettingError(message: "--code / STOCKYARD_ZOHO_GRANT_CODE is required")
                }
                let result = try ZohoAPIClient().exchangeGrantCode(
                    accountsURL: accounts, clientID: client, clientSecret: secret, code: grant, redirectURI: redirectURI,
                    now: Date().timeIntervalSince1970)
                print(result.refreshToken)
                FileHandle.standardError.write(
                    Data("stockyard: refresh token issued; API domain \(result.token.apiDomain ?? ""). Keep it in STOCKYARD_ZOHO_REFRESH_TOKEN_FILE.\n".utf8))
            } catch let error as SettingError {
                FileHandle.standardError.write(Data("stockyard: configuration error: \(error.message)\n".utf8))
                throw ExitCode(78)
            } catch let error as OutboundError {
                FileHandle.standardError.write(Data("stockyard: Zoho refused the grant code: \(error.message)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
