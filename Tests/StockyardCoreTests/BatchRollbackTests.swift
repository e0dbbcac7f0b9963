@testable import StockyardCore
import Testing

/// Reads see committed state only; a rolled-back batch (or the part after a savepoint) leaves
/// reads and later applies exactly as before.
@Suite struct BatchRollbackTests {
    let onHand: Int64 = 10
    let key = ListingKey(channel: .shopify, listingID: "L-1")

    func seeded() throws -> Ledger {
        try Fixture.ledger(
            onHand: [("ITEM-1", "WH-A", onHand), ("ITEM-1", "WH-B", onHand), ("ITEM-2", "WH-A", onHand)],
            maps: [Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-A", "WH-B"])])
    }

    /// Everything the read methods return, to compare before and after.
    struct Snapshot: Equatable {
        var stock1: ItemStock?
        var stock2: ItemStock?
        var figures: [StockFigures?]
        var sellable: Int64?
        var sellable2: Int64?
        var map: ListingMap?
        var map2: ListingMap?
        var totals: Int64
        var oversold: Int
        var rules: [AllocationRule]
    }

    func snapshot(_ ledger: Ledger) -> Snapshot {
        Snapshot(
            stock1: ledger.stock(itemID: "ITEM-1"),
            stock2: ledger.stock(itemID: "ITEM-2"),
            figures: [
                ledger.figures(itemID: "ITEM-1", locationID: "WH-A"),
                ledger.figures(itemID: "ITEM-1", locationID: "WH-B"),
                ledger.figures(itemID: "ITEM-2", locationID: "WH-A"),
                ledger.figures(itemID: "ITEM-3", locationID: "WH-C"),
            ],
            sellable: ledger.sellable(key),
            sellable2: ledger.sellable(ListingKey(channel: .shopify, listingID: "L-2")),
            map: ledger.listingMap(key),
            map2: ledger.listingMap(ListingKey(channel: .shopify, listingID: "L-2")),
            totals: ledger.totals().available,
            oversold: ledger.totals().oversoldRows,
            rules: ledger.allocationRules())
    }

    /// A batch touching every kind of state.
    func stageEverything(_ ledger: Ledger) throws {
        _ = ledger.apply(Fixture.sale(line: "1", quantity: onHand + 3, version: 5), now: Fixture.now)
        _ = ledger.apply(Fixture.sale("L-2", line: "2", quantity: 1, version: 1), now: Fixture.now)
        _ = ledger.apply(Fixture.sale(line: "1", quantity: 99, version: 5), now: Fixture.now)  // conflict
        try ledger.setOnHand(itemID: "ITEM-1", locationID: "WH-B", quantity: 4)
        try ledger.setOnHand(itemID: "ITEM-3", locationID: "WH-C", quantity: 7)
        try ledger.setRule(AllocationRule(channel: .shopify, safetyStock: 2, locations: ["WH-B"]))
        _ = try ledger.upsertListing(Fixture.itemMap("L-2", item: "ITEM-2"), now: Fixture.now)
        _ = try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-2", locations: ["WH-A"]), now: Fixture.now)
        _ = ledger.sealNets(maxLines: 10)
    }

    @Test func stagedChangesAreInvisibleUntilCommit() throws {
        let ledger = try seeded()
        let before = snapshot(ledger)
        ledger.beginBatch()
        try stageEverything(ledger)
        #expect(!ledger.batchIsEmpty)
        #expect(snapshot(ledger) == before)
        ledger.commitBatch()
        let after = snapshot(ledger)
        #expect(after != before)
        #expect(after.map == Fixture.itemMap("L-1", item: "ITEM-2", locations: ["WH-A"]))
        #expect(after.map2 == Fixture.itemMap("L-2", item: "ITEM-2"))
        #expect(after.figures[3]?.zohoOnHand == 7)
        #expect(after.rules.count == 1)
    }

    @Test func stagedSaleIsInvisible() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        _ = ledger.apply(Fixture.sale(quantity: 4, version: 1), now: Fixture.now)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
        #expect(ledger.sellable(key) == onHand * 2)
        #expect(ledger.itemAvailable("ITEM-1") == onHand * 2)
        #expect(ledger.totals().available == onHand * 3)
        ledger.commitBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 4)
        #expect(ledger.sellable(key) == onHand * 2 - 4)
    }

    @Test func newRowIsInvisibleUntilCommitted() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        try ledger.setOnHand(itemID: "NEW", locationID: "WH-A", quantity: 3)
        #expect(ledger.figures(itemID: "NEW", locationID: "WH-A") == nil)
        #expect(ledger.stock(itemID: "NEW") == nil)
        ledger.commitBatch()
        #expect(ledger.figures(itemID: "NEW", locationID: "WH-A")?.zohoOnHand == 3)
        #expect(ledger.stock(itemID: "NEW")?.locations.count == 1)
    }

    @Test func rollbackBatchRestoresEverything() throws {
        let ledger = try seeded()
        let before = snapshot(ledger)
        ledger.beginBatch()
        try stageEverything(ledger)
        ledger.rollbackBatch()
        #expect(snapshot(ledger) == before)
        #expect(ledger.lineCount == 0)
        #expect(ledger.parkedCount == 0)
        #expect(ledger.openNets().isEmpty)

        // Later applies behave as if the batch never happened.
        ledger.beginBatch()
        #expect(ledger.stagedChanges().isEmpty)
        // Version 5 was never stored: an older version applies, and a different version-5
        // quantity is no conflict.
        #expect(ledger.apply(Fixture.sale(line: "1", quantity: 1, version: 2), now: Fixture.now).result == .applied)
        #expect(ledger.apply(Fixture.sale(line: "1", quantity: 2, version: 5), now: Fixture.now).result == .applied)
        // The map of L-2 was rolled back: its events park again.
        #expect(ledger.apply(Fixture.sale("L-2", line: "2", quantity: 1, version: 1), now: Fixture.now).result == .unmapped)
        // The rule was rolled back: WH-A is the first choice again, and L-1 still sells ITEM-1.
        #expect(ledger.apply(Fixture.sale(line: "3", quantity: 1, version: 1), now: Fixture.now).result == .applied)
        #expect(ledger.stagedChanges().conflicts.isEmpty)
        ledger.commitBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2 - 1)
        #expect(ledger.available("ITEM-1", "WH-B") == onHand)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand)
    }

    @Test func rolledBackListingChangeKeepsTheOldItem() throws {
        let ledger = try seeded()
        // A first sale on the listing, so its consumption is known.
        ledger.commitEvent(Fixture.sale(line: "1", quantity: 1, version: 1))
        ledger.beginBatch()
        _ = try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-2", locations: ["WH-A"]), now: Fixture.now)
        _ = ledger.apply(Fixture.sale(line: "2", quantity: 1, version: 1), now: Fixture.now)
        ledger.rollbackBatch()
        ledger.commitEvent(Fixture.sale(line: "3", quantity: 1, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 1 - 1)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand)
    }

    @Test func rolledBackFirstSaleThenAnotherListingAtTheSameLocation() throws {
        let ledger = try Fixture.ledger(
            onHand: [("ITEM-1", "WH-A", onHand), ("ITEM-2", "WH-A", onHand)],
            maps: [Fixture.itemMap("L-1", item: "ITEM-1"), Fixture.itemMap("L-2", item: "ITEM-2")])
        ledger.beginBatch()
        _ = ledger.apply(Fixture.sale("L-1", line: "1", quantity: 1, version: 1), now: Fixture.now)
        ledger.rollbackBatch()
        ledger.commitEvents([
            Fixture.sale("L-2", line: "2", quantity: 2, version: 1),
            Fixture.sale("L-1", line: "3", quantity: 3, version: 1),
        ])
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 3)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand - 2)
        // The line must also give its units back where it took them, not where the rolled-back
        // consumption's index now points.
        #expect(ledger.commitEvents([Fixture.sale("L-1", line: "3", quantity: 0, version: 2)]) == [.applied])
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand - 2)
    }

    @Test func rolledBackReplayParksTheEventsAgain() throws {
        let ledger = try seeded()
        let parked = [
            Fixture.sale("L-2", line: "1", quantity: 1, version: 1),
            Fixture.sale("L-2", line: "2", quantity: 2, version: 1),
        ]
        ledger.commitEvents(parked)
        ledger.beginBatch()
        #expect(try ledger.upsertListing(Fixture.itemMap("L-2", item: "ITEM-2"), now: Fixture.now).count == 2)
        #expect(ledger.parkedCount == 0)
        ledger.rollbackBatch()
        #expect(ledger.parkedCount == parked.count)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand)
        let replayed = try ledger.batch {
            try ledger.upsertListing(Fixture.itemMap("L-2", item: "ITEM-2"), now: Fixture.now)
        }
        #expect(replayed.map(\.0) == parked)
        #expect(replayed.map(\.1.result) == [.applied, .applied])
        #expect(ledger.available("ITEM-2", "WH-A") == onHand - 1 - 2)
    }

    @Test func rolledBackParkingIsForgotten() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        _ = ledger.apply(Fixture.sale("L-2", quantity: 1, version: 1), now: Fixture.now)
        #expect(ledger.parkedCount == 1)
        ledger.rollbackBatch()
        #expect(ledger.parkedCount == 0)
        let replayed = try ledger.batch {
            try ledger.upsertListing(Fixture.itemMap("L-2", item: "ITEM-2"), now: Fixture.now)
        }
        #expect(replayed.isEmpty)
    }

    // MARK: Savepoints

    @Test func savepointUndoesOnlyWhatFollows() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        #expect(ledger.apply(Fixture.sale(line: "1", quantity: 2, version: 1), now: Fixture.now).result == .applied)
        let kept = ledger.stagedChanges()
        let savepoint = ledger.savepoint()
        _ = ledger.apply(Fixture.sale(line: "1", quantity: 5, version: 2), now: Fixture.now)
        _ = ledger.apply(Fixture.sale(line: "2", quantity: onHand * 3, version: 1), now: Fixture.now)  // oversells
        _ = ledger.apply(Fixture.sale(line: "1", quantity: 6, version: 2), now: Fixture.now)  // conflict
        _ = ledger.apply(Fixture.sale("L-2", line: "3", quantity: 1, version: 1), now: Fixture.now)  // parked
        try ledger.setRule(AllocationRule(channel: .shopify, maximum: 1))
        try ledger.setOnHand(itemID: "ITEM-2", locationID: "WH-A", quantity: 0)
        #expect(ledger.stagedOversells == 1)
        #expect(ledger.stagedChanges().conflicts.count == 1)
        #expect(ledger.parkedCount == 1)

        ledger.rollback(to: savepoint)
        #expect(ledger.stagedOversells == 0)
        #expect(ledger.parkedCount == 0)
        let changes = ledger.stagedChanges()
        #expect(changes.conflicts.isEmpty)
        #expect(changes.lines == kept.lines)
        #expect(changes.rows == kept.rows)
        #expect(changes.rules.isEmpty)
        #expect(changes.parkedListings.isEmpty)
        ledger.commitBatch()

        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2)
        #expect(ledger.available("ITEM-1", "WH-B") == onHand)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand)
        #expect(ledger.allocationRules().isEmpty)
        #expect(ledger.lineCount == 1)
        // The line holds its pre-savepoint state: version 2 is new, line 2 is unknown.
        #expect(ledger.commitEvent(Fixture.sale(line: "1", quantity: 2, version: 1)) == .duplicate)
        #expect(ledger.commitEvent(Fixture.sale(line: "1", quantity: 6, version: 2)) == .applied)
        #expect(ledger.commitEvent(Fixture.sale(line: "2", quantity: 1, version: 0)) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 6 - 1)
    }

    @Test func nestedSavepoints() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        _ = ledger.apply(Fixture.sale(line: "1", quantity: 1, version: 1), now: Fixture.now)
        let outer = ledger.savepoint()
        _ = ledger.apply(Fixture.sale(line: "2", quantity: 2, version: 1), now: Fixture.now)
        let inner = ledger.savepoint()
        _ = ledger.apply(Fixture.sale(line: "3", quantity: 3, version: 1), now: Fixture.now)
        ledger.rollback(to: inner)
        #expect(ledger.stagedChanges().lines.count == 2)
        _ = ledger.apply(Fixture.sale(line: "4", quantity: 4, version: 1, location: "WH-B"), now: Fixture.now)
        ledger.rollback(to: outer)
        #expect(ledger.stagedChanges().lines.count == 1)
        _ = ledger.apply(Fixture.sale(line: "5", quantity: 5, version: 1, location: "WH-B"), now: Fixture.now)
        ledger.commitBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 1)
        #expect(ledger.available("ITEM-1", "WH-B") == onHand - 5)
        #expect(ledger.lineCount == 2)
        for line in ["2", "3", "4"] {
            #expect(ledger.commitEvent(Fixture.sale(line: line, quantity: 0, version: 0)) == .applied)
        }
    }

    @Test func rollbackToTheStartEmptiesTheBatch() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        let start = ledger.savepoint()
        try stageEverything(ledger)
        ledger.rollback(to: start)
        #expect(ledger.batchIsEmpty)
        #expect(ledger.stagedChanges().isEmpty)
        ledger.commitBatch()
        #expect(ledger.lineCount == 0)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
        #expect(ledger.listingMap(key) == Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-A", "WH-B"]))
    }

    @Test func savepointAfterAMapChangeKeepsTheMap() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        _ = try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-2", locations: ["WH-A"]), now: Fixture.now)
        let savepoint = ledger.savepoint()
        _ = ledger.apply(Fixture.sale(line: "1", quantity: 1, version: 1), now: Fixture.now)
        ledger.rollback(to: savepoint)
        _ = ledger.apply(Fixture.sale(line: "2", quantity: 2, version: 1), now: Fixture.now)
        ledger.commitBatch()
        #expect(ledger.available("ITEM-2", "WH-A") == onHand - 2)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
        #expect(ledger.listingMap(key)?.target == .item("ITEM-2"))
    }

    @Test func stagedChangesListEachThingOnce() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        _ = ledger.apply(Fixture.sale(line: "1", quantity: 1, version: 1), now: Fixture.now)
        _ = ledger.apply(Fixture.sale(line: "1", quantity: 2, version: 2), now: Fixture.now)
        _ = ledger.apply(Fixture.sale(line: "2", quantity: 1, version: 1), now: Fixture.now)
        try ledger.setRule(AllocationRule(channel: .shopify, maximum: 3))
        try ledger.setRule(AllocationRule(channel: .shopify, maximum: 4))
        try ledger.setRule(AllocationRule(channel: .shopify, listingID: "L-1", maximum: 4))
        let changes = ledger.stagedChanges()
        #expect(changes.lines.count == 2)
        #expect(changes.rows.count == 1)
        #expect(changes.rules == [AllocationRuleKey(channel: .shopify), AllocationRuleKey(channel: .shopify, listingID: "L-1")])
        #expect(ledger.rule(AllocationRuleKey(channel: .shopify))?.maximum == 4)
        ledger.commitBatch()
        #expect(ledger.rule(AllocationRuleKey(channel: .shopify))?.maximum == 4)
    }

    /// A listing on two locations takes the first that can serve the whole line, and follows the
    /// stock as it moves, also after its map was replaced and the change rolled back.
    @Test func twoLocationListingFollowsTheStock() throws {
        let ledger = try Fixture.ledger(
            onHand: [("ITEM-1", "WH-A", 2), ("ITEM-1", "WH-B", 5)],
            maps: [Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-A", "WH-B"])])
        #expect(ledger.commitEvents([Fixture.sale(order: "O-1", quantity: 2, version: 1)]) == [.applied])
        #expect(ledger.commitEvents([Fixture.sale(order: "O-2", quantity: 1, version: 1)]) == [.applied])
        #expect(ledger.available("ITEM-1", "WH-A") == 0)
        #expect(ledger.available("ITEM-1", "WH-B") == 4)
        ledger.beginBatch()
        _ = try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-B", "WH-A"]), now: Fixture.now)
        #expect(ledger.apply(Fixture.sale(order: "O-3", quantity: 1, version: 1), now: Fixture.now).result == .applied)
        ledger.rollbackBatch()
        #expect(ledger.commitEvents([Fixture.sale(order: "O-4", quantity: 9, version: 1)]) == [.applied])
        // Neither location can serve 9: the first location on the map takes the oversell.
        #expect(ledger.available("ITEM-1", "WH-A") == -9)
        #expect(ledger.available("ITEM-1", "WH-B") == 4)
        #expect(ledger.commitEvents([Fixture.sale(order: "O-2", quantity: 0, version: 2)]) == [.applied])
        #expect(ledger.available("ITEM-1", "WH-B") == 5)
    }
}
