import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import StockyardChannels
import StockyardCore
import StockyardEngine
import StockyardMarketplaces
import StockyardOutbound
import StockyardZoho

extension HTTPField.Name {
    static let shopifyHmac = HTTPField.Name("X-Shopify-Hmac-Sha256")!
    static let shopifyTopic = HTTPField.Name("X-Shopify-Topic")!
    static let shopifyShopDomain = HTTPField.Name("X-Shopify-Shop-Domain")!
    static let shopifyWebhookID = HTTPField.Name("X-Shopify-Webhook-Id")!
    static let shopifyTriggeredAt = HTTPField.Name("X-Shopify-Triggered-At")!
    static let shopifyEventID = HTTPField.Name("X-Shopify-Event-Id")!
    static let stockyardSignature = HTTPField.Name("X-Stockyard-Signature")!
    static let stockyardDelivery = HTTPField.Name("X-Stockyard-Delivery")!
    static let stockyardToken = HTTPField.Name("X-Stockyard-Token")!
}

/// A channel webhook as received: enough to read it again from the dead-letter list.
struct WebhookInput: Sendable {
    var channel: String
    /// Headers that reading the body needs (topic, shop, delivery id, time), by lower-case name.
    var headers: [String: String]
    var body: [UInt8]
}

extension StockyardAPI {
    /// Shopify's and Amazon's webhooks, and Zoho's corrections: each authenticated by its
    /// signature over the raw body, never by a bearer token.
    var webhookRoutes: RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
        routes.post("/webhooks/shopify") { request, context in try await shopifyWebhook(request, context) }
        routes.post("/webhooks/amazon") { request, context in try await amazonWebhook(request, context) }
        routes.post("/webhooks/zoho") { request, context in try await zohoWebhook(request, context) }
        return routes
    }

    // MARK: Shopify

    private func shopifyWebhook(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let buffer = try await webhookBody(request, channel: "shopify")
        let headers = ShopifyHeaders(request.headers)
        switch try readShopify(buffer, headers: headers, context: context) {
        case .answered(let response):
            return response
        case .read(let delivery):
            return try await store(delivery, context: context, resolving: nil, input: { Self.shopifyInput(buffer, headers: headers) })
        case .unread:
            // Read again the careful way, which keeps the body as a dead letter.
            return try await handle(Self.shopifyInput(buffer, headers: headers), context: context, resolving: nil)
        }
    }

    /// What an authenticated Shopify webhook comes to before anything is stored.
    private enum ShopifyReading {
        /// A redelivery of a stored delivery id, answered.
        case answered(Response)
        case read(ChannelDelivery)
        /// A body that does not read: it goes the careful way, to the dead letters.
        case unread
    }

    /// Authenticates a Shopify webhook and reads its body where it lies.
    private func readShopify(_ buffer: ByteBuffer, headers: ShopifyHeaders, context: BasicRequestContext) throws -> ShopifyReading {
        let shop = headers.shopDomain?.lowercased()
        let settings = shop.flatMap { configuration.shopifyShops[$0] }
        let secrets = settings?.secrets ?? configuration.shopifySecrets
        let signature = headers.hmac
        let valid = buffer.withUnsafeReadableBytes {
            WebhookSignature.verifyShopify(header: signature, body: $0, secrets: secrets)
        }
        guard valid else {
            metrics.countWebhook("shopify", .unauthorized)
            context.logger.warning(
                "webhook signature rejected",
                metadata: ["channel": "shopify", "shop": "\(loggable(shop))", "has_signature": "\(signature != nil)"])
            throw APIError(
                .unauthorized, .unauthorized,
                secrets.isEmpty ? "no Shopify secret is configured for this shop" : "X-Shopify-Hmac-Sha256 does not match the body",
                field: "X-Shopify-Hmac-Sha256")
        }
        // No topic, or the header given twice (joined with ", "): read the careful way, refused.
        guard let topic = headers.topic, !topic.isEmpty, !topic.contains(",") else { return .unread }
        // A delivery id stored lately is answered at once, without reading the body again: Shopify
        // retries a delivery with the same id and body, and the first one was stored whole.
        if let id = headers.webhookID, writer.inbox.seen(channel: .shopify, deliveryID: id) {
            metrics.countWebhook("shopify", .duplicateDelivery)
            let delivery = ChannelDelivery(channel: .shopify, kind: .orders, topic: topic, deliveryID: id)
            return .answered(deliveryResponse(delivery, outcome: DeliveryOutcome(duplicateDelivery: true)))
        }
        let delivery = try? buffer.withUnsafeReadableBytes { body in
            try ShopifyWebhook.read(
                topic: topic, body: body, triggeredAt: headers.triggeredAt, webhookID: headers.webhookID, namespace: settings?.namespace)
        }
        return delivery.map { .read($0) } ?? .unread
    }

    /// A Shopify webhook as received, for the dead-letter list.
    private static func shopifyInput(_ buffer: ByteBuffer, headers: ShopifyHeaders) -> WebhookInput {
        WebhookInput(channel: "shopify", headers: headers.kept, body: buffer.withUnsafeReadableBytes { Array($0) })
    }

    // MARK: Amazon

    private func amazonWebhook(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let buffer = try await webhookBody(request, channel: "amazon")
        let signature = request.headers[.stockyardSignature]
        let valid = buffer.readableBytesView.withContiguousStorageIfAvailable {
            WebhookSignature.verifyHex(header: signature, body: UnsafeRawBufferPointer($0), secrets: configuration.amazonBridgeSecrets)
        } ?? false
        guard valid else {
            metrics.countWebhook("amazon", .unauthorized)
            context.logger.warning(
                "webhook signature rejected", metadata: ["channel": "amazon", "has_signature": "\(signature != nil)"])
            throw APIError(
                .unauthorized, .unauthorized,
                configuration.amazonBridgeSecrets.isEmpty
                    ? "no Amazon bridge secret is configured" : "X-Stockyard-Signature does not match the body",
                field: "X-Stockyard-Signature")
        }
        var headers: [String: String] = [:]
        if let delivery = request.headers[.stockyardDelivery] { headers[HTTPField.Name.stockyardDelivery.canonicalName] = delivery }
        let input = WebhookInput(channel: "amazon", headers: headers, body: buffer.withUnsafeReadableBytes { Array($0) })
        return try await handle(input, context: context, resolving: nil)
    }

    // MARK: Shared

    /// Reads an authenticated webhook and stores what it says. A body that cannot be read is kept
    /// as a dead letter (unless it is one already being replayed) and answered 400.
    func handle(_ input: WebhookInput, context: BasicRequestContext, resolving deadLetter: String?) async throws -> Response {
        let channel = input.channel
        let delivery: ChannelDelivery
        do {
            delivery = try read(input)
        } catch let error as PayloadError {
            if deadLetter != nil {
                throw APIError(.unprocessableContent, APIError.Code(error.code.rawValue), error.message, field: error.field)
            }
            let id = try await keepDeadLetter(input, error: error, context: context)
            metrics.countWebhook(channel, .deadLettered)
            context.logger.warning(
                "webhook body kept as a dead letter",
                metadata: ["channel": "\(channel)", "dead_letter": "\(id)", "reason": "\(error.code)", "field": "\(error.field ?? "-")"])
            throw APIError(
                .badRequest, APIError.Code(error.code.rawValue), "\(error.message) (kept as dead letter \(id))", field: error.field)
        }
        if deadLetter == nil, let id = delivery.deliveryID, writer.inbox.seen(channel: delivery.channel, deliveryID: id) {
            metrics.countWebhook(channel, .duplicateDelivery)
            return deliveryResponse(delivery, outcome: DeliveryOutcome(duplicateDelivery: true))
        }
        return try await store(delivery, context: context, resolving: deadLetter, input: { input })
    }

    /// Stores what a webhook that was read asks of the ledger and answers it; its callers have
    /// answered a delivery id stored lately already. `input` makes the webhook as received, for
    /// a line the ledger refuses (kept as a dead letter).
    func store(
        _ delivery: ChannelDelivery, context: BasicRequestContext, resolving deadLetter: String?, input: () -> WebhookInput
    ) async throws -> Response {
        let channel = delivery.channel.name
        switch delivery.kind {
        case .ignored, .informational:
            metrics.countWebhook(channel, delivery.kind == .ignored ? .ignored : .informational)
            context.logger.info(
                delivery.kind == .ignored ? "webhook topic ignored" : "informational notification",
                metadata: ["channel": "\(channel)", "topic": "\(delivery.topic)", "delivery": "\(delivery.deliveryID ?? "-")"])
            if let deadLetter {
                _ = try await submit(
                    .delivery(DeliveryJob(channel: delivery.channel, deliveryID: nil, lines: [], adjustments: [], resolvesDeadLetter: deadLetter)),
                    path: "webhook", context: context)
            }
            return deliveryResponse(delivery, outcome: nil)
        case .orders:
            break
        }
        let job = DeliveryJob(
            channel: delivery.channel, deliveryID: delivery.deliveryID, lines: delivery.lines,
            adjustments: delivery.adjustments, resolvesDeadLetter: deadLetter)
        let result: DeliveryOutcome
        do {
            result = try await writer.submit(.delivery(job))
        } catch let error as InvalidJobError {
            // The ledger refused a line (say, a location that left the listing's map).
            let problem = PayloadError(field: "lines[\(error.index)].\(error.problem.field)", message: error.problem.message)
            if deadLetter != nil {
                throw APIError(.unprocessableContent, .invalidField, problem.message, field: problem.field)
            }
            let id = try await keepDeadLetter(input(), error: problem, context: context)
            metrics.countWebhook(channel, .deadLettered)
            throw APIError(.badRequest, .invalidField, "\(problem.message) (kept as dead letter \(id))", field: problem.field)
        } catch let error as StoreUnavailableError {
            metrics.countWebhook(channel, .unavailable)
            context.logger.warning("webhook refused", metadata: ["channel": "\(channel)", "reason": "\(error.reason)"])
            throw APIError.unavailable(error, retryAfter: configuration.retryAfterSeconds)
        }
        metrics.countWebhook(channel, result.duplicateDelivery ? .duplicateDelivery : .accepted)
        return deliveryResponse(delivery, outcome: result)
    }

    /// Turns a webhook into what it asks of the ledger.
    func read(_ input: WebhookInput) throws -> ChannelDelivery {
        try input.body.withUnsafeBytes { (body) throws(PayloadError) -> ChannelDelivery in
            switch input.channel {
            case "shopify":
                guard let topic = input.headers["x-shopify-topic"], !topic.isEmpty else {
                    throw PayloadError(field: "X-Shopify-Topic", code: .invalidHeader, message: "the X-Shopify-Topic header is required")
                }
                // Two topics cannot both be the delivery's: neither is taken.
                guard !topic.contains(",") else {
                    throw PayloadError(
                        field: "X-Shopify-Topic", code: .invalidHeader, message: "the X-Shopify-Topic header must be given once")
                }
                let shop = input.headers["x-shopify-shop-domain"]?.lowercased()
                return try ShopifyWebhook.read(
                    topic: topic, body: body, triggeredAt: input.headers["x-shopify-triggered-at"],
                    webhookID: input.headers["x-shopify-webhook-id"],
                    namespace: shop.flatMap { configuration.shopifyShops[$0] }?.namespace)
            case "amazon":
                return try AmazonNotification.read(body: body)
            default:
                throw PayloadError(field: nil, message: "no reader for channel \(input.channel)")
            }
        }
    }

    /// The body of a webhook, up to the size limit (413 beyond it, counted).
    func webhookBody(_ request: Request, channel: String) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            metrics.countWebhook(channel, .tooLarge)
            throw APIError(
                .contentTooLarge, .bodyTooLarge, "the body exceeds the limit of \(configuration.maxBodyBytes) bytes")
        }
    }

    func keepDeadLetter(_ input: WebhookInput, error: PayloadError, context: BasicRequestContext) async throws -> String {
        let now = Date().timeIntervalSince1970
        let milliseconds = Int64(now * 1000)
        let id = DeadLetter.newID(milliseconds: milliseconds)
        let letter = DeadLetter(
            id: id, channel: input.channel, receivedAt: milliseconds, code: error.code.rawValue, message: error.message,
            field: error.field, headers: input.headers, body: input.body, replays: 0)
        _ = try await submit(.deadLetter(letter), path: "webhook", context: context)
        return id
    }

    func deliveryResponse(_ delivery: ChannelDelivery, outcome: DeliveryOutcome?) -> Response {
        var json = JSONWriter(capacity: 256 + 96 * delivery.lines.count)
        json.raw("{\"delivery\":")
        let status: String
        switch (delivery.kind, outcome?.duplicateDelivery) {
        case (.ignored, _): status = "ignored"
        case (.informational, _): status = "informational"
        case (_, true?): status = "duplicate"
        default: status = "applied"
        }
        json.string(status)
        json.raw(",\"channel\":")
        json.string(delivery.channel.name)
        json.raw(",\"topic\":")
        json.string(delivery.topic)
        var counts = ResultCounts()
        json.raw(",\"lines\":[")
        if let outcome, !outcome.duplicateDelivery {
            var first = true
            for index in 0..<min(delivery.lines.count, outcome.lines.count) {
                if !first { json.raw(",") }
                first = false
                let result = outcome.lines[index].result
                writeLine(delivery.lines[index].event, result: result.name, into: &json)
                counts[result] += 1
            }
            for (adjustment, result) in zip(delivery.adjustments, outcome.adjustments) {
                if !first { json.raw(",") }
                first = false
                if let result {
                    writeLine(result.event, result: result.outcome.result.name, into: &json)
                    counts[result.outcome.result] += 1
                } else {
                    json.raw("{\"order_id\":")
                    json.string(adjustment.orderID)
                    json.raw(",\"line_id\":")
                    json.string(adjustment.lineID)
                    json.raw(",\"result\":\"unknown_line\"}")
                }
            }
        }
        json.raw("],\"counts\":")
        writeCounts(counts, into: &json)
        if !delivery.skipped.isEmpty {
            json.raw(",\"skipped\":[")
            for (index, line) in delivery.skipped.enumerated() {
                if index > 0 { json.raw(",") }
                json.raw("{\"order_id\":")
                json.string(line.orderID)
                json.raw(",\"line_id\":")
                json.string(line.lineID)
                json.raw(",\"reason\":")
                json.string(line.reason)
                json.raw("}")
            }
            json.raw("]")
        }
        if let outcome, !outcome.autoMapped.isEmpty {
            json.raw(",\"auto_mapped\":[")
            for (index, key) in outcome.autoMapped.enumerated() {
                if index > 0 { json.raw(",") }
                json.string(key.listingID)
            }
            json.raw("]")
        }
        json.raw("}")
        return jsonResponse(json.bytes)
    }

    private func writeLine(_ event: SaleEvent, result: String, into json: inout JSONWriter) {
        json.raw("{\"order_id\":")
        json.string(event.orderID)
        json.raw(",\"line_id\":")
        json.string(event.lineID)
        json.raw(",\"listing_id\":")
        json.string(event.listingID)
        json.raw(",\"quantity\":")
        json.number(event.quantity)
        json.raw(",\"result\":")
        json.string(result)
        json.raw("}")
    }
}

extension HTTPFields {
    /// The value of each named field, read in one pass; values of repeated fields are joined
    /// with ", " as `subscript(_:)` joins them.
    func values(of names: [HTTPField.Name]) -> [String?] {
        var values = [String?](repeating: nil, count: names.count)
        for field in self {
            for (index, name) in names.enumerated() where field.name == name {
                if let value = values[index] {
                    values[index] = value + ", " + field.value
                } else {
                    values[index] = field.value
                }
            }
        }
        return values
    }
}

/// A header value from a caller not yet authenticated, as it may be logged: at most 100
/// characters, then how long it was, so that a 30 KB header makes no 30 KB log line. "-" when
/// there is none.
func loggable(_ value: String?) -> String {
    guard let value else { return "-" }
    let limit = 100
    guard value.utf8.count > limit else { return value }
    return "\(value.prefix(limit))… (\(value.utf8.count) bytes)"
}
