@testable import StockyardCore
import Testing

/// Changing a listing's map: new lines follow the new map, existing lines keep drawing on what
/// they were sold from.
@Suite struct ListingMapTests {
    let onHand: Int64 = 20
    let key = ListingKey(channel: .shopify, listingID: "L-1")

    func seeded() throws -> Ledger {
        try Fixture.ledger(
            onHand: [
                ("ITEM-1", "WH-A", onHand), ("ITEM-2", "WH-A", onHand), ("ITEM-1", "WH-B", onHand),
                ("ITEM-2", "WH-B", onHand),
            ],
            maps: [Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-A"])])
    }

    @Test func newLinesFollowTheNewItem() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(line: "1", quantity: 2, version: 1))
        try ledger.batch { _ = try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-2", locations: ["WH-A"]), now: Fixture.now) }
        ledger.commitEvent(Fixture.sale(line: "2", quantity: 3, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand - 3)
    }

    @Test func existingLinesKeepTheirConsumption() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(line: "1", quantity: 2, version: 1))
        try ledger.batch { _ = try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-2", locations: ["WH-B"]), now: Fixture.now) }
        // The edit and the cancellation go back to what the line was sold from.
        ledger.commitEvent(Fixture.sale(line: "1", quantity: 5, version: 2))
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 5)
        #expect(ledger.available("ITEM-2", "WH-B") == onHand)
        ledger.commitEvent(Fixture.sale(line: "1", quantity: 0, version: 3))
        #expect(ledger.totals().available == onHand * 4)
    }

    @Test func mapCanTurnIntoABundle() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(line: "1", quantity: 1, version: 1))
        try ledger.batch {
            _ = try ledger.upsertListing(
                Fixture.bundleMap("L-1", components: [("ITEM-1", 1), ("ITEM-2", 2)], locations: ["WH-A"]), now: Fixture.now)
        }
        ledger.commitEvent(Fixture.sale(line: "2", quantity: 2, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 1 - 2)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand - 2 * 2)
        #expect(ledger.listingMap(key)?.isBundle == true)
    }

    @Test func newLocationsApplyToNewLines() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(line: "1", quantity: 1, version: 1))
        try ledger.batch { _ = try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-B", "WH-A"]), now: Fixture.now) }
        ledger.commitEvent(Fixture.sale(line: "2", quantity: 1, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 1)
        #expect(ledger.available("ITEM-1", "WH-B") == onHand - 1)
        // The dropped-and-reordered map is what reads report.
        #expect(ledger.listingMap(key)?.locations == ["WH-B", "WH-A"])
        #expect(ledger.sellable(key) == (onHand - 1) * 2)
    }

    @Test func changingBackRestoresTheFirstItem() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(line: "1", quantity: 1, version: 1))
        try ledger.batch {
            _ = try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-2", locations: ["WH-A"]), now: Fixture.now)
            _ = ledger.apply(Fixture.sale(line: "2", quantity: 1, version: 1), now: Fixture.now)
            _ = try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-A"]), now: Fixture.now)
            _ = ledger.apply(Fixture.sale(line: "3", quantity: 1, version: 1), now: Fixture.now)
        }
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 1 - 1)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand - 1)
    }

    @Test func sameMapAgainChangesNothing() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        let replayed = try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-A"]), now: Fixture.now)
        #expect(replayed.isEmpty)
        #expect(ledger.batchIsEmpty)
        #expect(ledger.stagedChanges().listings.isEmpty)
        ledger.commitBatch()
    }

    @Test func changedMapIsStagedForStorage() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        let map = Fixture.itemMap("L-1", item: "ITEM-2", locations: ["WH-B"])
        _ = try ledger.upsertListing(map, now: Fixture.now)
        let listings = ledger.stagedChanges().listings
        #expect(listings.count == 1)
        #expect(ledger.listing(listings[0]).key == key)
        #expect(ledger.listing(listings[0]).map == map)
        // Readers still see the committed map.
        #expect(ledger.listingMap(key) == Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-A"]))
        ledger.commitBatch()
        #expect(ledger.listingMap(key) == map)
    }
}
