import ArgumentParser

/// Servers for development, tests and load tests, kept out of the production executable:
/// stand-ins for Zoho and the marketplaces, and the bare endpoint the load test compares with.
@main
struct StockyardDev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stockyard-dev",
        abstract: "Development servers: zoho-sandbox, marketplace-sandbox, bare-endpoint.",
        subcommands: [ZohoSandboxCommand.self, MarketplaceSandboxCommand.self, BareEndpointCommand.self]
    )
}
