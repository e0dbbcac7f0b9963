@testable import StockyardCore
import Testing

/// The batch apply (which fetches the memory of events ahead) gives the same outcomes and the same
/// ledger as applying the events one by one.
@Suite struct BatchApplyTests {
    static let items = (0..<6).map { "ITEM-\($0)" }
    static let locations = ["WH-A", "WH-B", "WH-C"]

    /// Listings on one, two and three locations, a bundle on two, and a listing with no map.
    static func ledger() throws -> Ledger {
        try Fixture.ledger(
            onHand: items.flatMap { item in locations.map { (item, $0, Int64(3)) } },
            maps: [
                Fixture.itemMap("ONE", item: "ITEM-0"),
                Fixture.itemMap("TWO", item: "ITEM-1", locations: ["WH-A", "WH-B"]),
                Fixture.itemMap("THREE", item: "ITEM-2", locations: ["WH-C", "WH-A", "WH-B"]),
                Fixture.bundleMap("KIT", components: [("ITEM-3", 2), ("ITEM-4", 1)], locations: ["WH-B", "WH-A"]),
                Fixture.itemMap("AMZ", item: "ITEM-5", locations: ["WH-A", "WH-B"], channel: .amazon),
            ],
            rules: [AllocationRule(channel: .amazon, locations: ["WH-B", "WH-A"])])
    }

    /// New lines, redeliveries, edits, cancellations, stale versions and events naming their
    /// location, over all the listings.
    static func events(seed: UInt64, count: Int) -> [SaleEvent] {
        var random = SplitMix(state: seed)
        let listings: [(String, Channel)] = [
            ("ONE", .shopify), ("TWO", .shopify), ("THREE", .shopify), ("KIT", .shopify), ("AMZ", .amazon), ("NONE", .shopify),
        ]
        var sent: [SaleEvent] = []
        for serial in 0..<count {
            let roll = Int.random(in: 0..<10, using: &random)
            if roll < 2, let earlier = sent.randomElement(using: &random) {
                sent.append(earlier)
            } else if roll < 4, var earlier = sent.randomElement(using: &random) {
                earlier.quantity = Int64.random(in: 0...4, using: &random)
                earlier.version = max(0, earlier.version + Int64.random(in: -1...3, using: &random))
                sent.append(earlier)
            } else {
                let (listing, channel) = listings.randomElement(using: &random)!
                let location = listing == "THREE" && roll == 9 ? "WH-B" : nil
                sent.append(
                    SaleEvent(
                        channel: channel, listingID: listing, orderID: "O-\(serial / 2)", lineID: "\(serial)",
                        quantity: Int64.random(in: 1...3, using: &random), version: 1, locationID: location))
            }
        }
        return sent
    }

    static func figures(_ ledger: Ledger) -> [StockFigures?] {
        items.flatMap { item in locations.map { ledger.figures(itemID: item, locationID: $0) } }
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func sameOutcomesAndStockAsOneByOne(seed: UInt64) throws {
        let single = try Self.ledger()
        let batched = try Self.ledger()
        let events = Self.events(seed: seed, count: 600)
        for start in stride(from: 0, to: events.count, by: 50) {
            let slice = events[start..<min(start + 50, events.count)]
            single.beginBatch()
            let expected = slice.map { single.apply(validated: $0, now: Fixture.now) }
            let expectedChanges = single.stagedChanges()
            single.commitBatch()

            batched.beginBatch()
            var outcomes: [EventOutcome] = []
            #expect(batched.apply(validated: slice, now: Fixture.now, outcomes: &outcomes) == nil)
            let changes = batched.stagedChanges()
            batched.commitBatch()
            #expect(outcomes == expected)
            #expect(changes.lines == expectedChanges.lines && changes.rows == expectedChanges.rows)
        }
        #expect(Self.figures(batched) == Self.figures(single))
        #expect(batched.lineCount == single.lineCount)
        #expect(batched.parkedCount == single.parkedCount)
    }

    @Test func stopsAtTheFirstInvalidEvent() throws {
        let ledger = try Self.ledger()
        let events = [
            Fixture.sale("ONE", line: "1", quantity: 1, version: 1),
            Fixture.sale("THREE", line: "2", quantity: 1, version: 1, location: "WH-Z"),
            Fixture.sale("ONE", line: "3", quantity: 1, version: 1),
        ]
        ledger.beginBatch()
        var outcomes: [EventOutcome] = []
        #expect(ledger.apply(validated: events[...], now: Fixture.now, outcomes: &outcomes) == 1)
        #expect(outcomes.map(\.result) == [.applied, .invalid])
        #expect(outcomes[1].problem?.field == "location_id")
        ledger.commitBatch()
        #expect(ledger.available("ITEM-0", "WH-A") == 2)
    }
}

/// The first invalid event stops the batch wherever it sits in the look-ahead ring.
@Suite struct BatchApplyStopTests {
    @Test(arguments: [0, 7, 9, 17, 40])
    func stopsAtTheInvalidEvent(position: Int) throws {
        let ledger = try Fixture.ledger(onHand: [("ITEM-1", "WH-A", 100)], maps: [Fixture.itemMap()])
        var events = (0..<50).map { Fixture.sale(order: "O-\($0)", quantity: 1, version: 1) }
        events[position].orderID = String(repeating: "x", count: Limits.maxIDLength + 1)
        ledger.beginBatch()
        var outcomes: [EventOutcome] = []
        #expect(ledger.apply(validated: events[...], now: Fixture.now, outcomes: &outcomes) == position)
        #expect(outcomes.count == position + 1)
        #expect(outcomes.last?.result == .invalid)
        #expect(outcomes.dropLast().allSatisfy { $0.result == .applied })
        ledger.commitBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == 100 - Int64(position))
    }
}

/// A new line of quantity 0 (a line cancelled before it reached us) leaves stock rows alone:
/// a row that was never stocked does not appear.
@Suite struct ZeroQuantityLineTests {
    @Test func leavesAnUnstockedRowAlone() throws {
        let ledger = try Fixture.ledger(maps: [Fixture.itemMap("L-1", item: "ITEM-9", locations: ["WH-C"])])
        #expect(ledger.commitEvents([Fixture.sale(quantity: 0, version: 1)]) == [.applied])
        #expect(ledger.figures(itemID: "ITEM-9", locationID: "WH-C") == nil)
        ledger.beginBatch()
        _ = ledger.apply(validated: Fixture.sale(order: "O-2", quantity: 0, version: 1), now: Fixture.now)
        #expect(ledger.stagedChanges().rows.isEmpty)
        ledger.commitBatch()
    }
}
