@testable import StockyardCore
import Testing

/// Bundles (Zoho composite items): a sale consumes every component × its per-bundle quantity,
/// and the bundle's sellable figure is the minimum over components of
/// `floor(component sellable / per-bundle quantity)`.
@Suite struct BundleTests {
    let key = ListingKey(channel: .ebay, listingID: "GIFT-BOX")

    func bundleLedger(
        mug: Int64, tea: Int64, locations: [String] = ["WH-A"], rules: [AllocationRule] = []
    ) throws -> Ledger {
        var onHand: [(item: String, location: String, quantity: Int64)] = []
        for location in locations {
            onHand.append(("MUG", location, mug))
            onHand.append(("TEA", location, tea))
        }
        return try Fixture.ledger(
            onHand: onHand,
            maps: [
                Fixture.bundleMap(
                    "GIFT-BOX", components: [("MUG", 2), ("TEA", 3)], locations: locations, channel: .ebay)
            ],
            rules: rules)
    }

    func sale(_ quantity: Int64, version: Int64, line: String = "1", location: String? = nil) -> SaleEvent {
        Fixture.sale("GIFT-BOX", line: line, quantity: quantity, version: version, channel: .ebay, location: location)
    }

    @Test func saleConsumesEachComponentTimesItsQuantity() throws {
        let mug: Int64 = 20
        let tea: Int64 = 30
        let ledger = try bundleLedger(mug: mug, tea: tea)
        let bundles: Int64 = 3
        #expect(ledger.commitEvent(sale(bundles, version: 1)) == .applied)
        #expect(ledger.available("MUG", "WH-A") == mug - bundles * 2)
        #expect(ledger.available("TEA", "WH-A") == tea - bundles * 3)
    }

    @Test func editAndCancelMoveEveryComponent() throws {
        let mug: Int64 = 20
        let tea: Int64 = 30
        let ledger = try bundleLedger(mug: mug, tea: tea)
        ledger.commitEvent(sale(3, version: 1))
        #expect(ledger.commitEvent(sale(1, version: 2)) == .applied)
        #expect(ledger.available("MUG", "WH-A") == mug - 1 * 2)
        #expect(ledger.available("TEA", "WH-A") == tea - 1 * 3)
        #expect(ledger.commitEvent(sale(0, version: 3)) == .applied)
        #expect(ledger.available("MUG", "WH-A") == mug)
        #expect(ledger.available("TEA", "WH-A") == tea)
    }

    @Test func stagedChangesNameEveryComponentRow() throws {
        let ledger = try bundleLedger(mug: 10, tea: 10)
        ledger.beginBatch()
        _ = ledger.apply(sale(1, version: 1), now: Fixture.now)
        let changes = ledger.stagedChanges()
        #expect(Set(changes.rows.map { ledger.row($0).itemID }) == ["MUG", "TEA"])
        let consumption = ledger.consumption(ledger.lineRecord(changes.lines[0]).consumption)
        #expect(consumption.parts.map(\.itemID) == ["MUG", "TEA"])
        #expect(consumption.parts.map(\.units) == [2, 3])
        ledger.commitBatch()
    }

    @Test(arguments: [
        (mug: Int64(20), tea: Int64(30)),  // mugs allow 10, tea allows 10
        (mug: 7, tea: 30),  // mugs allow 3 (7 / 2 floored)
        (mug: 20, tea: 8),  // tea allows 2 (8 / 3 floored)
        (mug: 1, tea: 30),  // mugs allow 0
        (mug: -4, tea: 30),  // oversold component: 0
    ])
    func sellableIsTheScarcestComponent(mug: Int64, tea: Int64) throws {
        let ledger = try bundleLedger(mug: mug, tea: tea)
        let mugBundles = max(mug, 0) / 2
        let teaBundles = max(tea, 0) / 3
        #expect(ledger.sellable(key) == min(mugBundles, teaBundles))
    }

    @Test func sellableSumsEligibleLocationsPerComponent() throws {
        let mug: Int64 = 5
        let tea: Int64 = 15
        // Mugs at each of two locations: 10 in all, so 5 bundles; tea allows 30 / 3 = 10.
        let ledger = try bundleLedger(mug: mug, tea: tea, locations: ["WH-A", "WH-B"])
        #expect(ledger.sellable(key) == min((mug + mug) / 2, (tea + tea) / 3))
    }

    @Test func sellableAppliesTheRuleToEachComponentBeforeDividing() throws {
        // Half of each component's available: mugs 20 → 10 → 5 bundles; tea 12 → 6 → 2 bundles.
        let mug: Int64 = 20
        let tea: Int64 = 12
        let rule = AllocationRule(channel: .ebay, percentageHundredths: 5_000)
        let ledger = try bundleLedger(mug: mug, tea: tea, rules: [rule])
        #expect(ledger.sellable(key) == min(mug / 2 / 2, tea / 2 / 3))
    }

    @Test func sellableFollowsSales() throws {
        let mug: Int64 = 20
        let tea: Int64 = 30
        let sold: Int64 = 4
        let ledger = try bundleLedger(mug: mug, tea: tea)
        ledger.commitEvent(sale(sold, version: 1))
        // 12 mugs and 18 teas left: 6 bundles either way.
        #expect(ledger.sellable(key) == min((mug - sold * 2) / 2, (tea - sold * 3) / 3))
    }

    @Test func componentMissingAtTheLocationMakesTheBundleUnsellable() throws {
        let ledger = try Fixture.ledger(
            onHand: [("MUG", "WH-A", 10)],
            maps: [Fixture.bundleMap("GIFT-BOX", components: [("MUG", 1), ("TEA", 1)], locations: ["WH-A"], channel: .ebay)])
        #expect(ledger.sellable(key) == 0)
    }

    @Test func bundleAndSingleItemListingShareComponentStock() throws {
        let mugs: Int64 = 10
        let ledger = try Fixture.ledger(
            onHand: [("MUG", "WH-A", mugs), ("TEA", "WH-A", 30)],
            maps: [
                Fixture.bundleMap("GIFT-BOX", components: [("MUG", 2), ("TEA", 3)], locations: ["WH-A"], channel: .ebay),
                Fixture.itemMap("MUG-1", item: "MUG", locations: ["WH-A"], channel: .shopify),
            ])
        let single: Int64 = 4
        ledger.commitEvent(Fixture.sale("MUG-1", order: "S-1", quantity: single, version: 1))
        // 6 mugs left: 3 bundles.
        #expect(ledger.sellable(key) == (mugs - single) / 2)
        let boxes: Int64 = 2
        ledger.commitEvent(sale(boxes, version: 1))
        #expect(ledger.sellable(ListingKey(channel: .shopify, listingID: "MUG-1")) == mugs - single - boxes * 2)
    }

    @Test func listingMapRoundTripsTheBundle() throws {
        let map = Fixture.bundleMap("GIFT-BOX", components: [("MUG", 2), ("TEA", 3)], locations: ["WH-B", "WH-A"], channel: .ebay)
        let ledger = try Fixture.ledger(maps: [map])
        #expect(ledger.listingMap(key) == map)
        #expect(ledger.listingMap(key)?.isBundle == true)
    }

    @Test func bundleValidation() {
        let empty = Fixture.bundleMap("B", components: [], locations: ["WH-A"])
        #expect(empty.validate()?.field == "components")
        let twice = Fixture.bundleMap("B", components: [("MUG", 1), ("MUG", 2)], locations: ["WH-A"])
        #expect(twice.validate()?.field == "components.item_id")
        let zero = Fixture.bundleMap("B", components: [("MUG", 0)], locations: ["WH-A"])
        #expect(zero.validate()?.field == "components.quantity")
        let huge = Fixture.bundleMap("B", components: [("MUG", Limits.maxLineQuantity + 1)], locations: ["WH-A"])
        #expect(huge.validate()?.field == "components.quantity")
        let fine = Fixture.bundleMap("B", components: [("MUG", Limits.maxLineQuantity)], locations: ["WH-A"])
        #expect(fine.validate() == nil)
    }
}
