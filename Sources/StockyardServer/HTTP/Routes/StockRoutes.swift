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
    /// Stock and its allocation: events in (ingest or admin token), listing maps, stock and rules
    /// (admin token), and the figures read back (the read-token rule).
    var stockRoutes: RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
        routes.group().add(middleware: bearer(.ingest)).post("/v1/events") { request, context in try await postEvents(request, context) }
        let admin = routes.group().add(middleware: bearer(.admin))
        admin.put("/v1/listings") { request, context in try await putListings(request, context) }
        admin.put("/v1/stock") { request, context in try await putStock(request, context) }
        admin.put("/v1/allocation-rules") { request, context in try await putRules(request, context) }
        let reads = routes.group().add(middleware: bearer(.read))
        reads.get("/v1/allocation-rules") { request, _ in try getRules(request) }
        reads.get("/v1/stock/:item_id") { request, context in try getStock(request, context) }
        reads.get("/v1/listings/:channel/:listing_id") { request, context in try getListing(request, context) }
        reads.get("/v1/listings/:channel/:listing_id/sellable") { request, context in try getSellable(request, context) }
        return routes
    }

    // MARK: Writes

    private func postEvents(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
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

    // MARK: Reads

    private func getStock(_ request: Request, _ context: BasicRequestContext) throws -> Response {
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
}
