import ArgumentParser
import Hummingbird
import Logging
import NIOCore
import StockyardServer

/// A Hummingbird server that only reads webhook bodies and answers 200: the baseline the load
/// test compares the service with.
struct BareEndpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bare-endpoint",
        abstract: "Serve POST /webhooks/shopify that reads the body and answers 200 (load-test baseline)."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 8081

    func run() async throws {
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: .info) }
        let logger = Logger(label: "stockyard-bare")
        let router = Router()
        router.post("/webhooks/shopify") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 16 * 1024 * 1024)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let host = self.host
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "stockyard-bare"),
            onServerRunning: { channel in
                logger.info("listening", metadata: ["host": "\(host)", "port": "\(channel.localAddress?.port ?? 0)"])
            },
            logger: logger
        )
        try await app.runService()
    }
}
