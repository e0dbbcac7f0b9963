import ArgumentParser

@main
struct Stockyard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stockyard",
        abstract: "Multichannel stock allocation: per-SKU, per-warehouse stock, kept exactly once.",
        subcommands: [Serve.self, Reconcile.self, ZohoCommand.self, MarketplacesCommand.self, BareEndpoint.self],
        defaultSubcommand: Serve.self
    )
}
