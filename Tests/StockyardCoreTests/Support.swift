@testable import StockyardCore
import Testing

/// Builders for events, maps and seeded ledgers shared by the core tests.
enum Fixture {
    static let now: UInt32 = 1_000_000

    static func sale(
        _ listing: String = "L-1",
        order: String = "O-1",
        line: String = "1",
        quantity: Int64,
        version: Int64,
        channel: Channel = .shopify,
        location: String? = nil
    ) -> SaleEvent {
        SaleEvent(
            channel: channel, listingID: listing, orderID: order, lineID: line,
            quantity: quantity, version: version, locationID: location)
    }

    static func itemMap(
        _ listing: String = "L-1", item: String = "ITEM-1", locations: [String] = ["WH-A"],
        channel: Channel = .shopify
    ) -> ListingMap {
        ListingMap(channel: channel, listingID: listing, target: .item(item), locations: locations)
    }

    static func bundleMap(
        _ listing: String, components: [(String, Int64)], locations: [String], channel: Channel = .shopify
    ) -> ListingMap {
        ListingMap(
            channel: channel, listingID: listing,
            target: .bundle(components.map { BundleComponent(itemID: $0.0, quantity: $0.1) }),
            locations: locations)
    }

    /// A ledger with committed stock, maps and rules.
    static func ledger(
        onHand: [(item: String, location: String, quantity: Int64)] = [],
        maps: [ListingMap] = [],
        rules: [AllocationRule] = [],
        configuration: Ledger.Configuration = .init()
    ) throws -> Ledger {
        let ledger = Ledger(configuration: configuration)
        try ledger.batch {
            for entry in onHand {
                try ledger.setOnHand(itemID: entry.item, locationID: entry.location, quantity: entry.quantity)
            }
            for map in maps {
                let replayed = try ledger.upsertListing(map, now: now)
                #expect(replayed.isEmpty)
            }
            for rule in rules {
                try ledger.setRule(rule)
            }
        }
        return ledger
    }
}

extension Ledger {
    /// Stages `body` in a batch and commits it; rolls back if `body` throws.
    @discardableResult
    func batch<T>(_ body: () throws -> T) rethrows -> T {
        beginBatch()
        do {
            let result = try body()
            commitBatch()
            return result
        } catch {
            rollbackBatch()
            throw error
        }
    }

    /// Applies events in one committed batch and returns their results.
    @discardableResult
    func commitEvents(_ events: [SaleEvent], now: UInt32 = Fixture.now) -> [EventResult] {
        batch { events.map { apply($0, now: now).result } }
    }

    /// Applies one event in its own committed batch.
    @discardableResult
    func commitEvent(_ event: SaleEvent, now: UInt32 = Fixture.now) -> EventResult {
        commitEvents([event], now: now)[0]
    }

    /// Committed available stock of an item at a location (nil when the row does not exist).
    func available(_ item: String, _ location: String) -> Int64? {
        figures(itemID: item, locationID: location)?.available
    }

    /// Committed available stock of an item over all its locations.
    func itemAvailable(_ item: String) -> Int64 {
        stock(itemID: item)?.locations.reduce(0) { $0 + $1.figures.available } ?? 0
    }

    /// The order-line key bytes of a staged line, decoded as (channel, order, line).
    func lineKey(_ index: UInt32) -> (channel: UInt8, order: String, line: String) {
        withLineKey(index) { bytes in
            let body = Array(bytes.dropFirst())
            let separator = body.firstIndex(of: 0x1F) ?? body.count
            return (
                bytes[0],
                String(decoding: body[..<separator], as: UTF8.self),
                separator < body.count ? String(decoding: body[(separator + 1)...], as: UTF8.self) : ""
            )
        }
    }
}

/// Deterministic randomness for generated scenarios (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
