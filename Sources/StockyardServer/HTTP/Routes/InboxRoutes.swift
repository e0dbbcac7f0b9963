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

extension StockyardAPI {
    /// What is kept for a person (dead letters, unmapped listings) and the catalogue: admin
    /// routes, but for the unmapped listings, a read.
    var inboxRoutes: RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
        let admin = routes.group().add(middleware: bearer(.admin))
        admin.get("/v1/dead-letters") { request, _ in try listDeadLetters(request) }
        admin.get("/v1/dead-letters/:id") { request, context in try getDeadLetter(request, context) }
        admin.post("/v1/dead-letters/:id/replay") { request, context in try await replayDeadLetter(request, context) }
        admin.delete("/v1/dead-letters/:id") { request, context in try await deleteDeadLetter(request, context) }
        admin.put("/v1/items") { request, context in try await putItems(request, context) }
        admin.post("/v1/listings/import") { request, context in try await importListings(request, context) }
        routes.group().add(middleware: bearer(.read)).get("/v1/unmapped") { request, _ in try listUnmapped(request) }
        return routes
    }

    // MARK: Dead letters

    private func listDeadLetters(_ request: Request) throws -> Response {
        let limit = try queryLimit(request, default: 100, maximum: 1000)
        let after = request.uri.queryParameters.get("after")
        let letters = writer.inbox.deadLetters(after: after, limit: limit)
        var json = JSONWriter()
        json.raw("{\"dead_letters\":[")
        for (index, letter) in letters.enumerated() {
            if index > 0 { json.raw(",") }
            write(letter, into: &json)
        }
        json.raw("]")
        if letters.count == limit, let last = letters.last {
            json.raw(",\"next\":")
            json.string(last.id)
        }
        json.raw(",\"total\":")
        json.number(writer.inbox.deadLetterCount)
        json.raw("}")
        return jsonResponse(json.bytes)
    }

    private func getDeadLetter(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let letter = try deadLetter(context)
        var json = JSONWriter()
        write(letter, into: &json)
        return jsonResponse(json.bytes)
    }

    /// Reads a dead letter's body again (after a fix, or once its listing exists) and stores what it
    /// says; the dead letter goes in the same transaction. Its signature was checked on arrival.
    private func replayDeadLetter(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let letter = try deadLetter(context)
        let input = WebhookInput(channel: letter.channel, headers: letter.headers, body: letter.body)
        context.logger.info("replaying dead letter", metadata: ["dead_letter": "\(letter.id)", "channel": "\(letter.channel)"])
        if letter.channel == "zoho" {
            if let refused = RefusedLine(letter: letter) {
                guard let zohoSync else { throw APIError.zohoOff() }
                // Sent again in a batch of its own, once Zoho (or its map) is fixed.
                let name = zohoSync.newBatchName(at: Date())
                let batch = ZohoBatch(id: name.id, reference: name.reference, date: name.date, sealedAt: name.sealedAt, lines: [refused.line])
                _ = try await submit(.zoho(.requeue(letterID: letter.id, batch: batch)), path: "dead-letters", context: context)
                return jsonResponse("{\"requeued\":\"\(letter.id)\",\"reference_number\":\"\(batch.reference)\"}")
            }
            let response = try await correct(input, context: context, resolving: letter.id)
            _ = try await submit(.zoho(.resolveLetter(letter.id)), path: "dead-letters", context: context)
            return response
        }
        switch Channel(name: letter.channel) {
        case .ebay?, .etsy?:
            return try await replayLookupLetter(letter, context: context)
        default:
            return try await handle(input, context: context, resolving: letter.id)
        }
    }

    private func deleteDeadLetter(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let letter = try deadLetter(context)
        if let refused = RefusedLine(letter: letter) {
            // Given up on: the units leave flight, so nothing waits on the row any more.
            _ = try await submit(.zoho(.writeOff(letterID: letter.id, lines: [refused.line])), path: "dead-letters", context: context)
            context.logger.info("refused Zoho line written off", metadata: ["dead_letter": "\(letter.id)"])
            return jsonResponse("{\"deleted\":\"\(letter.id)\"}")
        }
        let channel = Channel(name: letter.channel) ?? .shopify
        _ = try await submit(
            .delivery(DeliveryJob(channel: channel, deliveryID: nil, lines: [], adjustments: [], resolvesDeadLetter: letter.id)),
            path: "dead-letters", context: context)
        context.logger.info("dead letter deleted", metadata: ["dead_letter": "\(letter.id)"])
        return jsonResponse("{\"deleted\":\"\(letter.id)\"}")
    }

    private func deadLetter(_ context: BasicRequestContext) throws -> DeadLetter {
        let id = try parameter(context, "id")
        guard let letter = writer.inbox.deadLetter(id) else {
            throw APIError(.notFound, .notFound, "no dead letter \(id)", field: "id")
        }
        return letter
    }

    private func write(_ letter: DeadLetter, into json: inout JSONWriter) {
        json.raw("{\"id\":")
        json.string(letter.id)
        json.raw(",\"channel\":")
        json.string(letter.channel)
        json.raw(",\"received_at\":")
        json.string(Date(timeIntervalSince1970: Double(letter.receivedAt) / 1000).formatted(.iso8601))
        json.raw(",\"code\":")
        json.string(letter.code)
        json.raw(",\"message\":")
        json.string(letter.message)
        if let field = letter.field {
            json.raw(",\"field\":")
            json.string(field)
        }
        json.raw(",\"headers\":{")
        for (index, name) in letter.headers.keys.sorted().enumerated() {
            if index > 0 { json.raw(",") }
            json.string(name)
            json.raw(":")
            json.string(letter.headers[name]!)
        }
        json.raw("}")
        if let text = String(validating: letter.body, as: UTF8.self) {
            json.raw(",\"body\":")
            json.string(text)
        } else {
            json.raw(",\"body_base64\":")
            json.string(Data(letter.body).base64EncodedString())
        }
        json.raw(",\"replays\":")
        json.number(letter.replays)
        json.raw("}")
    }

    // MARK: Unmapped listings

    private func listUnmapped(_ request: Request) throws -> Response {
        let limit = try queryLimit(request, default: 1000, maximum: 100_000)
        let summary = writer.ledger.withLock { $0.parkedSummary() }
        var json = JSONWriter(capacity: 128 + 96 * min(limit, summary.count))
        json.raw("{\"listings\":[")
        for (index, entry) in summary.prefix(limit).enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"channel\":")
            json.string(entry.listing.channel.name)
            json.raw(",\"listing_id\":")
            json.string(entry.listing.listingID)
            json.raw(",\"events\":")
            json.number(entry.events)
            json.raw(",\"oldest_version\":")
            json.number(entry.oldestVersion)
            json.raw("}")
        }
        json.raw("],\"listing_count\":")
        json.number(summary.count)
        json.raw(",\"event_count\":")
        json.number(summary.reduce(0) { $0 + $1.events })
        json.raw("}")
        return jsonResponse(json.bytes)
    }

    // MARK: Catalogue and imports

    private func putItems(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body: ItemsBody = try await decode(request, context)
        try checkCount(body.items.count, field: "items")
        var items: [CatalogueItem] = []
        var skus: [String: Int] = [:]
        for (index, raw) in body.items.enumerated() {
            let locations = raw.locations?.map(\.value) ?? []
            for (value, field) in [(raw.item_id.value, "item_id"), (raw.sku, "sku")] + locations.map({ ($0, "locations") }) {
                if let problem = Limits.validateID(value, field: field) {
                    throw APIError(.badRequest, .invalidField, problem.message, field: "items[\(index)].\(field)")
                }
            }
            if let other = skus[raw.sku] {
                throw APIError(
                    .badRequest, .invalidField, "sku \(raw.sku) is given twice (items[\(other)] and items[\(index)])",
                    field: "items[\(index)].sku")
            }
            skus[raw.sku] = index
            items.append(CatalogueItem(itemID: raw.item_id.value, sku: raw.sku, locations: locations))
        }
        let replayed = try await submit(.items(items), path: "items", context: context)
        return jsonResponse("{\"stored\":\(items.count),\"replayed\":\(replayed.count)}")
    }

    /// `POST /v1/listings/import`: listing maps from CSV (`channel,listing_id,item_id,locations`).
    private func importListings(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        if let type = request.headers[.contentType]?.lowercased(), !type.hasPrefix("text/csv"), !type.hasPrefix("text/plain") {
            throw APIError(.unsupportedMediaType, .unsupportedMediaType, "the body must be text/csv", field: "Content-Type")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, .bodyTooLarge, "the body exceeds the limit of \(configuration.maxBodyBytes) bytes")
        }
        let bytes = buffer.withUnsafeReadableBytes { Array($0) }
        let maps: [ListingMap]
        do {
            maps = try bytes.withUnsafeBytes { (body) throws(PayloadError) in try ListingCSV.read(body, maxRows: configuration.maxImportRows) }
        } catch let error as PayloadError {
            throw APIError(.badRequest, .invalidField, error.message, field: error.field)
        }
        let replayed: [ReplayedEvent]
        do {
            replayed = try await writer.submit(.listings(maps))
        } catch let error as InvalidJobError {
            throw APIError(.badRequest, .invalidField, error.problem.message, field: "row \(error.index + 1).\(error.problem.field)")
        } catch let error as StoreUnavailableError {
            throw APIError.unavailable(error, retryAfter: configuration.retryAfterSeconds)
        }
        return listingsResponse(count: maps.count, replayed)
    }

    func queryLimit(_ request: Request, default fallback: Int, maximum: Int) throws -> Int {
        guard let text = request.uri.queryParameters.get("limit") else { return fallback }
        guard let value = Int(text), value >= 1, value <= maximum else {
            throw APIError(.badRequest, .invalidField, "limit must be a whole number from 1 to \(maximum)", field: "limit")
        }
        return value
    }
}

struct ItemsBody: Decodable {
    struct Item: Decodable {
        var item_id: FlexibleID
        var sku: String
        var locations: [FlexibleID]?
    }

    var items: [Item]
}
