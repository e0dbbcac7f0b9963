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

/// The HTTP API: routes, authentication and JSON in and out.
struct StockyardAPI: Sendable {
    let configuration: ServerConfiguration
    let writer: LedgerWriter
    let metrics: StockyardMetrics
    let zohoSync: ZohoSync?
    let lookups: LookupService

    func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in jsonResponse("{\"status\":\"ok\"}") }
        router.get("/readyz") { _, _ in readiness() }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        router.post("/v1/events") { request, context in try await postEvents(request, context) }
        router.put("/v1/listings") { request, context in try await putListings(request, context) }
        router.put("/v1/stock") { request, context in try await putStock(request, context) }
        router.put("/v1/allocation-rules") { request, context in try await putRules(request, context) }
        router.get("/v1/allocation-rules") { request, _ in try getRules(request) }
        router.get("/v1/stock/:item_id") { request, context in try getStock(request, context) }
        router.get("/v1/listings/:channel/:listing_id") { request, context in try getListing(request, context) }
        router.get("/v1/listings/:channel/:listing_id/sellable") { request, context in try getSellable(request, context) }
        registerWebhooks(on: router)
        registerInbox(on: router)
        registerZoho(on: router)
        registerLookupWebhooks(on: router)
    }

    // MARK: Writes

    private func postEvents(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try authorize(request, tokens: [configuration.adminToken, configuration.ingestToken])
        let buffer = try await collectBody(request)
        // The fast reader takes the common shape; anything else goes through JSONDecoder, which
        // names the offending field.
        let parsed = buffer.readableBytesView.withContiguousStorageIfAvailable { EventsBodyParser.parse(UnsafeRawBufferPointer($0)) } ?? nil
        let events = try parsed ?? decodeJSON(EventsBody.self, buffer).events.map(\.saleEvent)
        try checkCount(events.count, field: "events")
        for (index, event) in events.enumerated() {
            if let problem = event.validate() {
                throw APIError(.badRequest, .invalidField, problem.message, field: "events[\(index)].\(problem.field)")
            }
        }
        let outcomes = try await submit(.events(events), path: "events", context: context)
        var counts = ResultCounts()
        var writer = JSONWriter(capacity: 32 * outcomes.count + 128)
        writer.raw("{\"results\":[")
        for (index, outcome) in outcomes.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"result\":")
            writer.string(outcome.result.name)
            writer.raw("}")
            counts[outcome.result] += 1
        }
        writer.raw("],\"counts\":")
        writeCounts(counts, into: &writer)
        writer.raw("}")
        return jsonResponse(writer.bytes)
    }

    private func putListings(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try authorize(request, tokens: [configuration.adminToken])
        let body: ListingsBody = try await decode(request, context)
        try checkCount(body.listings.count, field: "listings")
        var maps: [ListingMap] = []
        for (index, raw) in body.listings.enumerated() {
            let target: ListingMap.Target
            switch (raw.item_id, raw.components) {
            case (let item?, nil):
                target = .item(item.value)
            case (nil, let components?):
                target = .bundle(components.map { BundleComponent(itemID: $0.item_id.value, quantity: $0.quantity.value) })
            default:
                throw APIError(
                    .badRequest, .invalidField, "give either item_id or components, not both or neither",
                    field: "listings[\(index)].item_id")
            }
            let map = ListingMap(channel: raw.channel.channel, listingID: raw.listing_id.value, target: target, locations: raw.locations.map(\.value))
            if let problem = map.validate() {
                throw APIError(.badRequest, .invalidField, problem.message, field: "listings[\(index)].\(problem.field)")
            }
            maps.append(map)
        }
        let replayed = try await submit(.listings(maps), path: "listings", context: context)
        return listingsResponse(count: maps.count, replayed)
    }

    /// `{"listings", "replayed", "replayed_counts"}` for a stored listings job.
    func listingsResponse(count: Int, _ replayed: [ReplayedEvent]) -> Response {
        var counts = ResultCounts()
        for item in replayed { counts[item.outcome.result] += 1 }
        var writer = JSONWriter()
        writer.raw("{\"listings\":")
        writer.number(count)
        writer.raw(",\"replayed\":")
        writer.number(replayed.count)
        writer.raw(",\"replayed_counts\":")
        writeCounts(counts, into: &writer)
        writer.raw("}")
        return jsonResponse(writer.bytes)
    }

    private func putStock(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try authorize(request, tokens: [configuration.adminToken])
        let body: StockBody = try await decode(request, context)
        try checkCount(body.stock.count, field: "stock")
        var settings: [StockSetting] = []
        for (index, raw) in body.stock.enumerated() {
            for (value, field) in [(raw.item_id.value, "item_id"), (raw.location_id.value, "location_id")] {
                if let problem = Limits.validateID(value, field: field) {
                    throw APIError(.badRequest, .invalidField, problem.message, field: "stock[\(index)].\(field)")
                }
            }
            guard (-Limits.maxStock...Limits.maxStock).contains(raw.zoho_on_hand.value) else {
                throw APIError(
                    .badRequest, .invalidField, "zoho_on_hand must be within ±\(Limits.maxStock)",
                    field: "stock[\(index)].zoho_on_hand")
            }
            settings.append(StockSetting(itemID: raw.item_id.value, locationID: raw.location_id.value, zohoOnHand: raw.zoho_on_hand.value))
        }
        _ = try await submit(.stock(settings), path: "stock", context: context)
        return jsonResponse("{\"stored\":\(settings.count)}")
    }

    private func putRules(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try authorize(request, tokens: [configuration.adminToken])
        let body: RulesBody = try await decode(request, context)
        try checkCount(body.rules.count, field: "rules")
        var rules: [AllocationRule] = []
        for (index, raw) in body.rules.enumerated() {
            var hundredths: Int64 = 10_000
            if let percentage = raw.percentage {
                let scaled = (percentage * 100).rounded()
                guard percentage.isFinite, abs(percentage * 100 - scaled) < 1e-6, scaled >= 0, scaled <= 10_000 else {
                    throw APIError(
                        .badRequest, .invalidField, "percentage must be between 0 and 100 with at most two decimals",
                        field: "rules[\(index)].percentage")
                }
                hundredths = Int64(scaled)
            }
            let rule = AllocationRule(
                channel: raw.channel.channel, listingID: raw.listing_id?.value, safetyStock: raw.safety_stock?.value ?? 0,
                percentageHundredths: hundredths, maximum: raw.max?.value, floor: raw.floor?.value ?? 0,
                locations: raw.locations?.map(\.value) ?? [])
            if let problem = rule.validate() {
                throw APIError(.badRequest, .invalidField, problem.message, field: "rules[\(index)].\(problem.field)")
            }
            rules.append(rule)
        }
        _ = try await submit(.rules(rules), path: "allocation-rules", context: context)
        return jsonResponse("{\"stored\":\(rules.count)}")
    }

    func submit<Request: WriterRequest>(_ request: Request, path: String, context: BasicRequestContext) async throws -> Request.Answer {
        do {
            return try await writer.submit(request)
        } catch let error as InvalidJobError {
            throw APIError(.badRequest, .invalidField, error.problem.message, field: "\(path)[\(error.index)].\(error.problem.field)")
        } catch let error as StoreUnavailableError {
            context.logger.warning("write refused", metadata: ["reason": "\(error.reason)"])
            throw APIError.unavailable(error, retryAfter: configuration.retryAfterSeconds)
        }
    }

    // MARK: Reads

    private func readiness() -> Response {
        let health = writer.currentHealth
        let ready = health.loaded && health.redisReachable
        var writer = JSONWriter()
        writer.raw("{\"status\":")
        writer.string(ready ? "ready" : "not_ready")
        writer.raw(",\"state_loaded\":")
        writer.bool(health.loaded)
        writer.raw(",\"redis_reachable\":")
        writer.bool(health.redisReachable)
        if let error = health.lastError {
            writer.raw(",\"last_error\":")
            writer.string(error)
        }
        // Look-ups waiting for the channels' APIs (eBay orders, Etsy receipts).
        let backlog = self.writer.inbox.lookupBacklog
        writer.raw(",\"lookups\":{\"backlog\":")
        writer.number(Int64(backlog.count))
        if let oldest = backlog.oldest {
            writer.raw(",\"oldest_age_seconds\":")
            writer.number(max(0, (Int64(Date().timeIntervalSince1970 * 1000) - oldest) / 1000))
        }
        for (channel, status) in lookups.currentStatus {
            writer.raw(",")
            writer.string(channel)
            writer.raw(":{\"state\":")
            writer.string(status.state)
            if let error = status.lastError {
                writer.raw(",\"last_error\":")
                writer.string(error)
            }
            if let done = status.lastDoneAt {
                writer.raw(",\"last_done_at\":")
                writer.number(Int64(done))
            }
            writer.raw("}")
        }
        writer.raw("}")
        // Zoho's state is reported but does not make the service unready: sales are still
        // accepted and netted while Zoho cannot be reached.
        writer.raw(",\"zoho\":{\"sync\":")
        if let zohoSync {
            let status = zohoSync.currentStatus
            writer.string(status.state.rawValue)
            writer.raw(",\"sealed_batches\":")
            writer.number(Int64(status.sealedBatches))
            writer.raw(",\"calls_last_minute\":")
            writer.number(Int64(status.callsLastMinute))
            writer.raw(",\"calls_today\":")
            writer.number(Int64(status.callsToday))
            if let confirmed = status.lastConfirmedAt {
                writer.raw(",\"last_confirmed_at\":")
                writer.number(Int64(confirmed))
            }
            if let error = status.lastError {
                writer.raw(",\"last_error\":")
                writer.string(error)
            }
        } else {
            writer.string("off")
            writer.raw(",\"reason\":\"no Zoho credentials are configured\"")
        }
        writer.raw("}}")
        return Response(
            status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }

    private func getStock(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        try authorizeRead(request)
        let itemID = try parameter(context, "item_id")
        guard let stock = writer.ledger.withLock({ $0.stock(itemID: itemID) }) else {
            throw APIError(.notFound, .notFound, "no stock is known for item \(itemID)", field: "item_id")
        }
        var json = JSONWriter()
        json.raw("{\"item_id\":")
        json.string(stock.itemID)
        json.raw(",\"locations\":[")
        for (index, location) in stock.locations.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"location_id\":")
            json.string(location.locationID)
            json.raw(",\"zoho_on_hand\":")
            json.number(location.figures.zohoOnHand)
            json.raw(",\"unsynced\":")
            json.number(location.figures.unsynced)
            json.raw(",\"in_flight\":")
            json.number(location.figures.inFlight)
            json.raw(",\"available\":")
            json.number(location.figures.available)
            json.raw("}")
        }
        json.raw("],\"sellable\":{")
        for (index, channel) in Channel.allCases.enumerated() {
            if index > 0 { json.raw(",") }
            json.string(channel.name)
            json.raw(":")
            json.number(stock.sellable[channel] ?? 0)
        }
        json.raw("},\"stale\":")
        json.bool(!writer.currentHealth.redisReachable)
        json.raw("}")
        return jsonResponse(json.bytes)
    }

    private func getSellable(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        try authorizeRead(request)
        let key = try listingKey(context)
        guard let sellable = writer.ledger.withLock({ $0.sellable(key) }) else {
            throw APIError(.notFound, .notFound, "listing \(key.listingID) on \(key.channel.name) has no listing map", field: "listing_id")
        }
        var json = JSONWriter()
        json.raw("{\"channel\":")
        json.string(key.channel.name)
        json.raw(",\"listing_id\":")
        json.string(key.listingID)
        json.raw(",\"sellable\":")
        json.number(sellable)
        json.raw(",\"stale\":")
        json.bool(!writer.currentHealth.redisReachable)
        json.raw("}")
        return jsonResponse(json.bytes)
    }

    private func getListing(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        try authorizeRead(request)
        let key = try listingKey(context)
        guard let map = writer.ledger.withLock({ $0.listingMap(key) }) else {
            throw APIError(.notFound, .notFound, "listing \(key.listingID) on \(key.channel.name) has no listing map", field: "listing_id")
        }
        var json = JSONWriter()
        json.raw("{\"channel\":")
        json.string(map.channel.name)
        json.raw(",\"listing_id\":")
        json.string(map.listingID)
        switch map.target {
        case .item(let item):
            json.raw(",\"item_id\":")
            json.string(item)
        case .bundle(let components):
            json.raw(",\"components\":[")
            for (index, component) in components.enumerated() {
                if index > 0 { json.raw(",") }
                json.raw("{\"item_id\":")
                json.string(component.itemID)
                json.raw(",\"quantity\":")
                json.number(component.quantity)
                json.raw("}")
            }
            json.raw("]")
        }
        json.raw(",\"locations\":[")
        for (index, location) in map.locations.enumerated() {
            if index > 0 { json.raw(",") }
            json.string(location)
        }
        json.raw("]}")
        return jsonResponse(json.bytes)
    }

    private func getRules(_ request: Request) throws -> Response {
        try authorizeRead(request)
        let rules = writer.ledger.withLock { $0.allocationRules() }
        var json = JSONWriter()
        json.raw("{\"rules\":[")
        for (index, rule) in rules.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"channel\":")
            json.string(rule.channel.name)
            if let listing = rule.listingID {
                json.raw(",\"listing_id\":")
                json.string(listing)
            }
            json.raw(",\"safety_stock\":")
            json.number(rule.safetyStock)
            json.raw(",\"percentage\":")
            json.bytesAppend(String(Double(rule.percentageHundredths) / 100))
            if let maximum = rule.maximum {
                json.raw(",\"max\":")
                json.number(maximum)
            }
            json.raw(",\"floor\":")
            json.number(rule.floor)
            json.raw(",\"locations\":[")
            for (position, location) in rule.locations.enumerated() {
                if position > 0 { json.raw(",") }
                json.string(location)
            }
            json.raw("]}")
        }
        json.raw("]}")
        return jsonResponse(json.bytes)
    }

    // MARK: Helpers

    /// A list in a request body holds 1 to `maxEventsPerRequest` entries.
    func checkCount(_ count: Int, field: String) throws {
        guard count > 0 else {
            throw APIError(.badRequest, .invalidField, "\(field) must hold at least one entry", field: field)
        }
        guard count <= configuration.maxEventsPerRequest else {
            throw APIError(
                .contentTooLarge, .bodyTooLarge, "at most \(configuration.maxEventsPerRequest) entries per request",
                field: field)
        }
    }

    func listingKey(_ context: BasicRequestContext) throws -> ListingKey {
        let name = try parameter(context, "channel")
        guard let channel = Channel(name: name) else {
            throw APIError(.notFound, .notFound, "unknown channel '\(name)'", field: "channel")
        }
        return ListingKey(channel: channel, listingID: try parameter(context, "listing_id"))
    }

    func parameter(_ context: BasicRequestContext, _ name: String) throws -> String {
        guard let raw = context.parameters.get(name) else {
            throw APIError(.badRequest, .invalidField, "\(name) is missing", field: name)
        }
        return raw.removingPercentEncoding ?? raw
    }

    func authorize(_ request: Request, tokens: [String?]) throws {
        guard let presented = bearerToken(request) else { throw APIError.unauthorized() }
        var matched = false
        for case let token? in tokens where constantTimeEquals(Array(presented.utf8), Array(token.utf8)) {
            matched = true
        }
        guard matched else { throw APIError.unauthorized() }
    }

    func authorizeRead(_ request: Request) throws {
        guard let readToken = configuration.readToken else { return }
        try authorize(request, tokens: [readToken, configuration.adminToken])
    }

    func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let prefix = "Bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix("bearer ") else { return nil }
        return String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
    }

    func decode<Body: Decodable>(_ request: Request, _ context: BasicRequestContext) async throws -> Body {
        try decodeJSON(Body.self, try await collectBody(request))
    }

    /// The request body, after checking its media type and size.
    func collectBody(_ request: Request) async throws -> ByteBuffer {
        if let type = request.headers[.contentType]?.lowercased(), type != "application/json",
            !type.hasPrefix("application/json;")
        {
            throw APIError(.unsupportedMediaType, .unsupportedMediaType, "the body must be application/json", field: "Content-Type")
        }
        do {
            return try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(
                .contentTooLarge, .bodyTooLarge, "the body exceeds the limit of \(configuration.maxBodyBytes) bytes")
        }
    }

    /// Decodes a body once it has been checked whole: JSONDecoder would repair bytes that are
    /// not UTF-8, keep one of two fields of the same name, and read `0.99999999999999999999` as
    /// 1 and `1e-400` as 0, so those are refused first, naming the field.
    func decodeJSON<Body: Decodable>(_ type: Body.Type, _ buffer: ByteBuffer) throws -> Body {
        do {
            try buffer.withUnsafeReadableBytes { (body) throws(PayloadError) in
                var scanner = JSONScanner(body)
                try scanner.checkDocument()
            }
        } catch let error as PayloadError {
            throw APIError(.badRequest, APIError.Code(error.code.rawValue), error.message, field: error.field)
        }
        do {
            return try JSONDecoder().decode(Body.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError(decoding: error)
        }
    }
}

func jsonResponse(_ text: String) -> Response {
    jsonResponse(Array(text.utf8))
}

func jsonResponse(_ bytes: [UInt8]) -> Response {
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

func writeCounts(_ counts: ResultCounts, into writer: inout JSONWriter) {
    writer.raw("{")
    for (index, result) in EventResult.allCases.enumerated() {
        if index > 0 { writer.raw(",") }
        writer.string(result.name)
        writer.raw(":")
        writer.number(counts[result])
    }
    writer.raw("}")
}

/// Compares secrets in time that does not depend on where they differ.
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
    for index in 0..<max(a.count, b.count) {
        let x = index < a.count ? a[index] : 0
        let y = index < b.count ? b[index] : 0
        difference |= x ^ y
    }
    return difference == 0
}

extension JSONWriter {
    mutating func bytesAppend(_ text: String) {
        for byte in text.utf8 { appendByte(byte) }
    }
}

extension APIError {
    /// A field-level error from a JSON decoding failure.
    init(decoding error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String {
            var result = ""
            for key in codingPath {
                if let index = key.intValue {
                    result += "[\(index)]"
                } else {
                    result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return result
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            self.init(.badRequest, .invalidField, "\(field) is required", field: field)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            self.init(.badRequest, .invalidField, "\(field.isEmpty ? "the body" : field) has the wrong type (expected \(Self.typeName(type)))", field: field.isEmpty ? nil : field)
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            self.init(.badRequest, .invalidField, "\(field) must not be null (expected \(Self.typeName(type)))", field: field)
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty {
                self.init(.badRequest, .invalidJSON, "the body is not valid JSON")
            } else {
                self.init(.badRequest, .invalidField, "\(field) \(context.debugDescription)", field: field)
            }
        @unknown default:
            self.init(.badRequest, .invalidJSON, "the body could not be read")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Int64.Type, is Int.Type, is UInt64.Type: "integer"
        case is Double.Type: "number"
        case is Array<Any>.Type: "array"
        default: "\(type)".contains("Array") ? "array" : "\(type)".contains("Dictionary") ? "object" : "\(type)"
        }
    }
}
