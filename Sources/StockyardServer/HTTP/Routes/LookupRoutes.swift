import Foundation
import HTTPTypes
import Hummingbird
import Logging
import StockyardChannels
import StockyardCore
import StockyardEngine
import StockyardMarketplaces
import StockyardOutbound
import StockyardZoho

extension HTTPField.Name {
    static let ebaySignature = HTTPField.Name("X-EBAY-SIGNATURE")!
    static let webhookID = HTTPField.Name("webhook-id")!
    static let webhookTimestamp = HTTPField.Name("webhook-timestamp")!
    static let webhookSignature = HTTPField.Name("webhook-signature")!
}

extension StockyardAPI {
    /// eBay's and Etsy's notifications (authenticated by their signatures), which become look-up
    /// jobs, and the jobs waiting (a read).
    var lookupRoutes: RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
        routes.get("/webhooks/ebay") { request, _ in try ebayChallenge(request) }
        routes.post("/webhooks/ebay") { request, context in try await ebayWebhook(request, context) }
        routes.post("/webhooks/etsy") { request, context in try await etsyWebhook(request, context) }
        routes.group().add(middleware: bearer(.read)).get("/v1/lookups") { request, _ in try listLookups(request) }
        return routes
    }

    /// Look-up jobs waiting, the longest waiting first.
    private func listLookups(_ request: Request) throws -> Response {
        let limit = try queryLimit(request, default: 100, maximum: 1000)
        let backlog = writer.inbox.lookupBacklog
        var json = JSONWriter()
        json.raw("{\"backlog\":")
        json.number(Int64(backlog.count))
        json.raw(",\"lookups\":[")
        for (index, job) in writer.inbox.lookups(limit: limit).enumerated() {
            if index > 0 { json.raw(",") }
            json.raw(bytes: job.record)
        }
        json.raw("]}")
        return jsonResponse(json.bytes)
    }

    /// Replays an eBay or Etsy dead letter: a failed look-up is queued again (attempts reset);
    /// an order as fetched is read and applied; a notification as received is read again.
    func replayLookupLetter(_ letter: DeadLetter, context: BasicRequestContext) async throws -> Response {
        let channel: Channel = Channel(name: letter.channel) == .ebay ? .ebay : .etsy
        func unreadable(_ error: PayloadError) -> APIError {
            APIError(.unprocessableContent, APIError.Code(error.code.rawValue), error.message, field: error.field)
        }
        func requeue(_ job: LookupJob) async throws -> Response {
            var job = job
            job.attempts = 0
            job.notBefore = 0
            job.lastError = nil
            _ = try await submit(.lookupUpdate(job, resolvesDeadLetter: letter.id), path: "dead-letters", context: context)
            return jsonResponse("{\"requeued\":\(jsonText(letter.id)),\"job\":\(jsonText(job.id))}")
        }
        switch letter.headers[DeadLetter.kindHeader] {
        case "lookup":
            guard let job = try? LookupJob(record: letter.body) else {
                throw APIError(.unprocessableContent, .invalidField, "the dead letter does not hold a look-up job")
            }
            return try await requeue(job)
        case LookupJob.Kind.ebayOrder.rawValue, LookupJob.Kind.etsyReceipt.rawValue:
            let delivery: ChannelDelivery
            do {
                delivery = try letter.body.withUnsafeBytes { (raw) throws(PayloadError) -> ChannelDelivery in
                    channel == .ebay ? try EbayOrder.read(body: raw, deliveryID: nil) : try EtsyReceipt.read(body: raw, deliveryID: nil)
                }
            } catch let error as PayloadError {
                throw unreadable(error)
            }
            let applied = try await submit(
                .delivery(DeliveryJob(channel: channel, deliveryID: nil, lines: delivery.lines, adjustments: [], resolvesDeadLetter: letter.id)),
                path: "dead-letters", context: context)
            return deliveryResponse(delivery, outcome: applied)
        default:
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            var job: LookupJob?
            do {
                if channel == .ebay {
                    let notification = try letter.body.withUnsafeBytes { try EbayNotification.read(body: $0) }
                    if case .order(let orderID) = notification.kind {
                        job = LookupJob(id: "ebay:\(notification.notificationID)", kind: .ebayOrder, resource: orderID, receivedAt: now)
                    }
                } else {
                    let notification = try letter.body.withUnsafeBytes { try EtsyNotification.read(body: $0) }
                    if let receipt = notification.receiptID, let shop = notification.receiptShopID {
                        let id = letter.headers["webhook-id"].flatMap { $0.isEmpty ? nil : $0 } ?? letter.id
                        job = LookupJob(id: "etsy:\(id)", kind: .etsyReceipt, resource: receipt, shopID: shop, receivedAt: now)
                    }
                }
            } catch let error as PayloadError {
                throw unreadable(error)
            }
            if let job { return try await requeue(job) }
            _ = try await submit(
                .delivery(DeliveryJob(channel: channel, deliveryID: nil, lines: [], adjustments: [], resolvesDeadLetter: letter.id)),
                path: "dead-letters", context: context)
            return jsonResponse("{\"resolved\":\(jsonText(letter.id)),\"lookup\":null}")
        }
    }

    // MARK: eBay

    /// eBay's endpoint validation: `{"challengeResponse": hex(SHA-256(code + token + URL))}`.
    private func ebayChallenge(_ request: Request) throws -> Response {
        guard let code = request.uri.queryParameters.get("challenge_code"), !code.isEmpty else {
            throw APIError(.badRequest, .invalidField, "challenge_code is required", field: "challenge_code")
        }
        guard let token = configuration.ebayVerificationToken, let url = configuration.ebayEndpointURL else {
            throw APIError(
                .serviceUnavailable, APIError.Code("not_configured"),
                "eBay endpoint validation needs STOCKYARD_EBAY_VERIFICATION_TOKEN and STOCKYARD_EBAY_ENDPOINT_URL")
        }
        let answer = EbaySignature.challengeResponse(challengeCode: code, verificationToken: token, endpointURL: url)
        return jsonResponse("{\"challengeResponse\":\"\(answer)\"}")
    }

    /// An eBay notification: signature checked with the key eBay published under its `kid`;
    /// order notifications become look-up jobs, stored before the answer.
    private func ebayWebhook(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let buffer = try await webhookBody(request, channel: "ebay")
        let body = buffer.withUnsafeReadableBytes { Array($0) }
        let signature: EbaySignature
        do {
            signature = try EbaySignature(header: request.headers[.ebaySignature])
        } catch {
            metrics.countWebhook("ebay", .unauthorized)
            // eBay's own SDKs answer 412 to a notification that does not verify.
            throw APIError(.preconditionFailed, .unauthorized, error.description, field: "X-EBAY-SIGNATURE")
        }
        let key: String
        do {
            key = try await lookups.ebayKeys.key(signature.keyID)
        } catch {
            // Not a refusal: eBay retries, and the key may be fetched by then. A 200 here would
            // lose the notification.
            metrics.countWebhook("ebay", .unavailable)
            // The key id once (the error's text names it again), and the error by its code.
            context.logger.warning("eBay public key unavailable", metadata: ["kid": "\(signature.keyID)", "error": "\(error.code)"])
            throw APIError(
                .serviceUnavailable, APIError.Code("key_unavailable"),
                "the public key \(signature.keyID) is not available yet (\(error.code))", field: "X-EBAY-SIGNATURE",
                retryAfterSeconds: Int(max(1, min(300, error.retryAfter ?? 60))))
        }
        do {
            try body.withUnsafeBytes { try signature.verify(body: $0, publicKey: key) }
        } catch {
            metrics.countWebhook("ebay", .unauthorized)
            context.logger.warning("webhook signature rejected", metadata: ["channel": "ebay", "kid": "\(signature.keyID)"])
            throw APIError(.preconditionFailed, .unauthorized, "\(error)", field: "X-EBAY-SIGNATURE")
        }
        let input = WebhookInput(channel: "ebay", headers: [:], body: body)
        let notification: EbayNotification
        do {
            notification = try body.withUnsafeBytes { try EbayNotification.read(body: $0) }
        } catch let error as PayloadError {
            let id = try await keepDeadLetter(input, error: error, context: context)
            metrics.countWebhook("ebay", .deadLettered)
            throw APIError(.badRequest, APIError.Code(error.code.rawValue), "\(error.message) (kept as dead letter \(id))", field: error.field)
        }
        switch notification.kind {
        case .accountDeletion:
            // Stockyard keeps no buyer data (order lines hold ids and quantities only).
            metrics.countWebhook("ebay", .informational)
            context.logger.info("eBay account deletion acknowledged; no buyer data is held", metadata: ["notification": "\(notification.notificationID)"])
            return jsonResponse("{\"notification\":\"account_deletion\",\"buyer_data_erased\":0}")
        case .ignored:
            metrics.countWebhook("ebay", .ignored)
            return jsonResponse("{\"notification\":\"ignored\",\"topic\":\(jsonText(notification.topic))}")
        case .order(let orderID):
            let job = LookupJob(
                id: "ebay:\(notification.notificationID)", kind: .ebayOrder, resource: orderID,
                receivedAt: Int64(Date().timeIntervalSince1970 * 1000))
            return try await storeLookup(job, channel: .ebay, deliveryID: notification.notificationID, context: context)
        }
    }

    // MARK: Etsy

    /// An Etsy webhook (Standard Webhooks): receipt events become look-up jobs.
    private func etsyWebhook(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let buffer = try await webhookBody(request, channel: "etsy")
        let body = buffer.withUnsafeReadableBytes { Array($0) }
        let id = request.headers[.webhookID]
        let failure = body.withUnsafeBytes { (raw) -> StandardWebhooks.Failure? in
            do {
                try StandardWebhooks.verify(
                    id: id, timestamp: request.headers[.webhookTimestamp], signature: request.headers[.webhookSignature], body: raw,
                    secrets: configuration.etsyWebhookSecrets, now: Int64(Date().timeIntervalSince1970),
                    tolerance: configuration.etsyToleranceSeconds)
                return nil
            } catch let failure as StandardWebhooks.Failure {
                return failure
            } catch {
                return .noSignatureMatches
            }
        }
        if let failure {
            metrics.countWebhook("etsy", .unauthorized)
            context.logger.warning("webhook signature rejected", metadata: ["channel": "etsy", "reason": "\(failure)"])
            let message = configuration.etsyWebhookSecrets.isEmpty ? "no Etsy webhook secret is configured" : failure.description
            throw APIError(.unauthorized, .unauthorized, message, field: failure.header)
        }
        let input = WebhookInput(channel: "etsy", headers: ["webhook-id": id ?? ""], body: body)
        let notification: EtsyNotification
        do {
            notification = try body.withUnsafeBytes { try EtsyNotification.read(body: $0) }
        } catch let error as PayloadError {
            let letter = try await keepDeadLetter(input, error: error, context: context)
            metrics.countWebhook("etsy", .deadLettered)
            throw APIError(.badRequest, APIError.Code(error.code.rawValue), "\(error.message) (kept as dead letter \(letter))", field: error.field)
        }
        guard let receipt = notification.receiptID, let shop = notification.receiptShopID, let id else {
            metrics.countWebhook("etsy", .ignored)
            return jsonResponse("{\"notification\":\"ignored\",\"event_type\":\(jsonText(notification.eventType))}")
        }
        let job = LookupJob(
            id: "etsy:\(id)", kind: .etsyReceipt, resource: receipt, shopID: shop, receivedAt: Int64(Date().timeIntervalSince1970 * 1000))
        return try await storeLookup(job, channel: .etsy, deliveryID: id, context: context)
    }

    // MARK: Shared

    private func storeLookup(_ job: LookupJob, channel: Channel, deliveryID: String, context: BasicRequestContext) async throws -> Response {
        if writer.inbox.seen(channel: channel, deliveryID: deliveryID) {
            metrics.countWebhook(channel.name, .duplicateDelivery)
            return jsonResponse("{\"lookup\":\"duplicate\",\"job\":\(jsonText(job.id))}")
        }
        if writer.inbox.lookupCount >= configuration.lookups.maxBacklog {
            metrics.countWebhook(channel.name, .unavailable)
            context.logger.warning("look-up backlog full; notification refused for now", metadata: ["channel": "\(channel.name)"])
            throw APIError(
                .serviceUnavailable, APIError.Code("lookup_backlog_full"),
                "\(configuration.lookups.maxBacklog) look-ups are waiting already", retryAfterSeconds: 60)
        }
        let stored: Bool
        do {
            stored = try await writer.submit(.lookup(job, channel: channel, deliveryID: deliveryID))
        } catch let error as StoreUnavailableError {
            metrics.countWebhook(channel.name, .unavailable)
            throw APIError.unavailable(error, retryAfter: configuration.retryAfterSeconds)
        }
        metrics.countWebhook(channel.name, stored ? .accepted : .duplicateDelivery)
        if stored {
            context.logger.info("look-up queued", metadata: ["job": "\(job.id)", "resource": "\(job.resource)"])
        }
        return jsonResponse("{\"lookup\":\"\(stored ? "queued" : "duplicate")\",\"job\":\(jsonText(job.id))}")
    }

    private func jsonText(_ text: String) -> String {
        var json = JSONWriter()
        json.string(text)
        return String(decoding: json.bytes, as: UTF8.self)
    }
}
