import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import StockyardCore
import StockyardEngine
import StockyardMarketplaces
import StockyardOutbound
import StockyardRedis
import StockyardZoho

/// Builds the service: the ledger writer, the Zoho sync, the look-ups and the HTTP API, run
/// together in one service group with graceful shutdown (the HTTP server stops first, then the
/// look-ups, then the Zoho sync flushes once more, then the writer stores what is queued).
public enum StockyardServer {
    public static func makeApplication(
        configuration: ServerConfiguration,
        logger: Logger,
        metrics: StockyardMetrics = StockyardMetrics(),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let writer = LedgerWriter(
            configuration: .init(
                redis: configuration.redis,
                ledger: .init(lineRetention: configuration.lineRetentionSeconds, expectedLines: configuration.expectedLines),
                maxBatchEvents: configuration.maxBatchEvents,
                maxQueuedEvents: configuration.maxQueuedEvents,
                journalRetentionMilliseconds: configuration.journalRetentionSeconds * 1000,
                deliveryRetentionSeconds: configuration.deliveryRetentionSeconds,
                maxDeliveryIDs: configuration.maxDeliveryIDs
            ),
            metrics: metrics.engine,
            logger: logger
        )
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(RequestIDMiddleware())
        // Requests are logged at debug level: below that the middleware would only cost time.
        if logger.logLevel <= .debug {
            router.middlewares.add(LogRequestsMiddleware(.debug))
        }
        let zohoSync = configuration.zoho.map {
            ZohoSync(configuration: $0, writer: writer, redis: configuration.redis, metrics: metrics.zoho, logger: logger)
        }
        if zohoSync == nil {
            logger.warning("Zoho sync is off: no Zoho credentials are configured; events are accepted and netted")
        }
        let lookups = LookupService(
            configuration: configuration.lookups, ebay: configuration.ebayAPI, etsy: configuration.etsyAPI,
            ebayPublicKeys: configuration.ebayPublicKeys, redis: configuration.redis, writer: writer, metrics: metrics.lookups, logger: logger)
        StockyardAPI(configuration: configuration, writer: writer, metrics: metrics, zohoSync: zohoSync, lookups: lookups).register(on: router)
        // Idle connections and request heads that do not arrive whole are closed by the idle
        // timeout; whole requests by the guard's request timeout; surplus connections by its count.
        let connections = ConnectionCount(limit: configuration.http.maxConnections)
        let requestTimeout = TimeAmount.seconds(Int64(configuration.http.requestTimeoutSeconds))
        return Application(
            router: router,
            server: .http1(configuration: .init(
                additionalChannelHandlers: [ConnectionGuardInstaller(count: connections, requestTimeout: requestTimeout)],
                idleTimeout: .seconds(Int64(configuration.http.idleTimeoutSeconds)))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "stockyard"),
            // Shut down in reverse: the HTTP server first, then the look-ups under way, then the
            // final Zoho flush, then the writer.
            services: [writer] + (zohoSync.map { [$0] } ?? []) + [lookups],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.info("listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
                await onListening(port)
            },
            logger: logger
        )
    }
}

/// Returns the request id in an `X-Request-Id` header, so a caller can match a log line.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            // A transfer coding other than chunked (`gzip, chunked`) would be read as if the body
            // were plain; it is refused instead (RFC 9112: 501).
            if let coding = request.headers[.transferEncoding], coding.lowercased() != "chunked" {
                throw APIError(
                    .notImplemented, APIError.Code("unsupported_transfer_coding"),
                    "only the chunked transfer coding is read", field: "Transfer-Encoding")
            }
            var response = try await next(request, context)
            response.headers[.requestID] = context.id
            return response
        } catch {
            let failure: any HTTPResponseError
            if let known = error as? any HTTPResponseError {
                failure = known
            } else if let framing = error as? HTTPParserError {
                // Broken framing (a chunk size of `zz`, a body shorter than its length) is the
                // caller's doing: 400, and a warning at most.
                context.logger.warning("malformed HTTP request", metadata: ["error": "\(framing)"])
                failure = APIError(
                    .badRequest, APIError.Code("malformed_request"), "the request's framing is not valid HTTP/1.1 (\(framing))")
            } else {
                context.logger.error("request failed", metadata: ["error": "\(error)"])
                failure = APIError(.internalServerError, .internalError, "the request failed inside the service")
            }
            var response = try failure.response(from: request, context: context)
            response.headers[.requestID] = context.id
            return response
        }
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
}
