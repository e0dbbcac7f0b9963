import ArgumentParser
import NIOCore
import NIOPosix

@main
struct Stockyard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stockyard",
        abstract: "Multichannel stock allocation: per-SKU, per-warehouse stock, kept exactly once.",
        subcommands: [Serve.self, Reconcile.self, ZohoCommand.self],
        defaultSubcommand: Serve.self
    )

    /// Runs the command with Swift Concurrency's jobs on the NIO event loops: a request's handler
    /// then runs on the thread that reads its connection, without a hop to another pool and back.
    /// Blocking work (hiredis, curl) runs on threads of its own, never on these.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
