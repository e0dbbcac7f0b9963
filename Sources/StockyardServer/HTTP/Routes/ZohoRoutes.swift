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

extension StockyardAPI {
    /// Reconciliation with Zoho, run now or read back: admin routes.
    var zohoRoutes: RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
        let admin = routes.group().add(middleware: bearer(.admin))
        admin.post("/v1/zoho/reconcile") { request, context in try await postReconcile(request, context) }
        admin.get("/v1/zoho/reconcile") { request, _ in try getReconcile(request) }
        return routes
    }

    /// `POST /v1/zoho/reconcile[?fix=true][&max_pages=N]`: compares Zoho's stock with ours now.
    private func postReconcile(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let zohoSync else { throw APIError.zohoOff() }
        let query = request.uri.queryParameters
        let fix: Bool
        switch query.get("fix") {
        case nil, "false", "0": fix = false
        case "true", "1": fix = true
        default: throw APIError(.badRequest, .invalidField, "fix must be true or false", field: "fix")
        }
        var maxPages = zohoSync.configuration.reconcileMaxPages
        if let text = query.get("max_pages") {
            guard let number = Int(text), (1...10_000).contains(number) else {
                throw APIError(.badRequest, .invalidField, "max_pages must be a whole number from 1 to 10000", field: "max_pages")
            }
            maxPages = number
        }
        context.logger.info("Zoho reconciliation requested", metadata: ["fix": "\(fix)", "max_pages": "\(maxPages)"])
        do {
            return jsonResponse(Self.reconcileJSON(try await zohoSync.reconcile(fix: fix, maxPages: maxPages)))
        } catch {
            throw APIError(.badGateway, APIError.Code("zoho_\(error.code.rawValue)"), "Zoho: \(error.message)")
        }
    }

    /// `GET /v1/zoho/reconcile`: the last report.
    private func getReconcile(_ request: Request) throws -> Response {
        guard let zohoSync else { throw APIError.zohoOff() }
        guard let report = zohoSync.lastReconcileReport else {
            throw APIError(.notFound, .notFound, "no reconciliation has run yet")
        }
        return jsonResponse(Self.reconcileJSON(report))
    }

    static func reconcileJSON(_ report: ReconcileReport) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"finished_at\":")
        json.string(ISO8601DateFormatter().string(from: report.finishedAt))
        json.raw(",\"items_checked\":")
        json.number(Int64(report.itemsChecked))
        json.raw(",\"pages\":")
        json.number(Int64(report.pages))
        json.raw(",\"complete\":")
        json.bool(report.complete)
        json.raw(",\"fixed\":")
        json.number(Int64(report.fixed))
        json.raw(",\"drift\":[")
        for (index, row) in report.drift.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"item_id\":")
            json.string(row.itemID)
            json.raw(",\"location_id\":")
            json.string(row.locationID)
            json.raw(",\"zoho\":")
            if let zoho = row.zoho { json.number(zoho) } else { json.raw("null") }
            json.raw(",\"ours\":")
            if let ours = row.ours { json.number(ours) } else { json.raw("null") }
            json.raw(",\"difference\":")
            json.number(row.difference)
            json.raw(",\"in_flight\":")
            json.number(row.inFlight)
            json.raw("}")
        }
        json.raw("],\"fractional\":[")
        for (index, key) in report.fractional.enumerated() {
            if index > 0 { json.raw(",") }
            json.string(key)
        }
        json.raw("]}")
        return json.bytes
    }

    /// `POST /webhooks/zoho`: a stock correction from a Zoho workflow webhook, authenticated by
    /// `X-Stockyard-Signature: sha256=<hex HMAC of the body>` or, for organizations that cannot
    /// sign, `X-Stockyard-Token: <secret>`.
    func zohoWebhook(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let buffer = try await webhookBody(request, channel: "zoho")
        let secrets = configuration.zohoWebhookSecrets
        let signature = request.headers[.stockyardSignature]
        let signed = buffer.readableBytesView.withContiguousStorageIfAvailable {
            WebhookSignature.verifyHex(header: signature, body: UnsafeRawBufferPointer($0), secrets: secrets)
        } ?? false
        guard signed || WebhookSignature.verifyToken(header: request.headers[.stockyardToken], secrets: secrets) else {
            metrics.countWebhook("zoho", .unauthorized)
            context.logger.warning("webhook signature rejected", metadata: ["channel": "zoho"])
            throw APIError(
                .unauthorized, .unauthorized,
                secrets.isEmpty ? "no Zoho webhook secret is configured" : "neither X-Stockyard-Signature nor X-Stockyard-Token matches",
                field: "X-Stockyard-Signature")
        }
        let input = WebhookInput(channel: "zoho", headers: [:], body: buffer.withUnsafeReadableBytes { Array($0) })
        return try await correct(input, context: context, resolving: nil)
    }

    /// Applies a Zoho correction; a body that cannot be read is kept as a dead letter.
    func correct(_ input: WebhookInput, context: BasicRequestContext, resolving deadLetter: String?) async throws -> Response {
        let prefix = (configuration.zoho?.referencePrefix ?? "SY") + "-"
        let correction: ZohoCorrection
        do {
            correction = try input.body.withUnsafeBytes { (body) throws(PayloadError) in try ZohoCorrection.read(body: body, ownPrefix: prefix) }
        } catch let error as PayloadError {
            if deadLetter != nil {
                throw APIError(.unprocessableContent, APIError.Code(error.code.rawValue), error.message, field: error.field)
            }
            let id = try await keepDeadLetter(input, error: error, context: context)
            metrics.countWebhook("zoho", .deadLettered)
            throw APIError(.badRequest, APIError.Code(error.code.rawValue), "\(error.message) (kept as dead letter \(id))", field: error.field)
        }
        switch correction {
        case .echo(let id, let reference):
            metrics.countWebhook("zoho", .ignored)
            context.logger.debug("Zoho echo of our adjustment ignored", metadata: ["adjustment_id": "\(id)", "reference": "\(reference)"])
            return jsonResponse(correctionAnswer("echo", extra: ["inventory_adjustment_id": id, "reference_number": reference]))
        case .delta(let id, _, let lines):
            let deltas = lines.map { OnHandDelta(itemID: $0.itemID, locationID: $0.locationID, delta: $0.quantity) }
            let applied = try await store(
                .zohoAdjustment(adjustmentID: id, lines: deltas), input: input, resolving: deadLetter, context: context
            ) { index, field in
                "inventory_adjustment.line_items[\(index)].\(field == "delta" ? "quantity_adjusted" : field)"
            }
            metrics.countWebhook("zoho", applied ? .accepted : .duplicateDelivery)
            return jsonResponse(
                correctionAnswer(applied ? "adjustment" : "duplicate", extra: ["inventory_adjustment_id": id], lines: lines.count))
        case .absolute(let item, let locations, let modifiedAt):
            // Zoho's figure may or may not include a batch of ours still in flight: wait until
            // its outcome is recorded, so it is neither counted twice nor lost.
            let deadline = ContinuousClock.now + .milliseconds(Int64(configuration.correctionWaitSeconds * 1000))
            while writer.ledger.withLock({ ledger in locations.contains { ledger.inFlight(itemID: item, locationID: $0.locationID) != 0 } }) {
                guard ContinuousClock.now < deadline else {
                    metrics.countWebhook("zoho", .unavailable)
                    throw APIError.unavailable("a Zoho batch for item \(item) is still in flight", retryAfter: 5)
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let settings = locations.map {
                StockSetting(itemID: item, locationID: $0.locationID, zohoOnHand: $0.onHand, modifiedAt: modifiedAt)
            }
            let staleRows = try await store(.stock(settings), input: input, resolving: deadLetter, context: context) { index, field in
                switch field {
                case "item_id": "item.item_id"
                case "zoho_on_hand": "item.locations[\(index)].location_stock_on_hand"
                default: "item.locations[\(index)].\(field)"
                }
            }
            let stale = staleRows.count
            if stale == locations.count {
                // Not newer than what each row holds: a replay, or a record that came late.
                metrics.countWebhook("zoho", .duplicateDelivery)
                context.logger.info("Zoho correction not newer than the rows' last; not applied", metadata: ["item_id": "\(item)"])
                return jsonResponse(correctionAnswer("stale", extra: ["item_id": item], lines: 0))
            }
            metrics.countWebhook("zoho", .accepted)
            return jsonResponse(correctionAnswer("stock", extra: ["item_id": item], lines: locations.count - stale))
        }
    }

    /// Stores a correction. One the ledger refuses is kept as a dead letter, like one that does
    /// not read, with the body's own field named (`path` turns the job's entry and field into it).
    private func store<Request: WriterRequest>(
        _ request: Request, input: WebhookInput, resolving deadLetter: String?, context: BasicRequestContext,
        path: (Int, String) -> String
    ) async throws -> Request.Answer {
        do {
            return try await writer.submit(request)
        } catch let error as InvalidJobError {
            let problem = PayloadError(field: path(error.index, error.problem.field), message: error.problem.message)
            if deadLetter != nil {
                throw APIError(.unprocessableContent, .invalidField, problem.message, field: problem.field)
            }
            let id = try await keepDeadLetter(input, error: problem, context: context)
            metrics.countWebhook("zoho", .deadLettered)
            throw APIError(.badRequest, .invalidField, "\(problem.message) (kept as dead letter \(id))", field: problem.field)
        } catch let error as StoreUnavailableError {
            metrics.countWebhook("zoho", .unavailable)
            throw APIError.unavailable(error, retryAfter: configuration.retryAfterSeconds)
        }
    }

    private func correctionAnswer(_ kind: String, extra: [String: String], lines: Int? = nil) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"correction\":")
        json.string(kind)
        for key in extra.keys.sorted() {
            json.raw(",")
            json.string(key)
            json.raw(":")
            json.string(extra[key]!)
        }
        if let lines {
            json.raw(",\"lines\":")
            json.number(Int64(lines))
        }
        json.raw("}")
        return json.bytes
    }
}
