@testable import StockyardCore
import Testing

/// Sale events as idempotent upserts of order lines: one result per event, stock moved by
/// `old quantity − new quantity`.
@Suite struct LedgerApplyTests {
    let onHand: Int64 = 20

    func seeded() throws -> Ledger {
        try Fixture.ledger(
            onHand: [("ITEM-1", "WH-A", onHand)],
            maps: [Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-A"])])
    }

    // MARK: Result kinds

    @Test func firstEventCreatesTheLine() throws {
        let ledger = try seeded()
        #expect(ledger.lineCount == 0)
        let result = ledger.commitEvent(Fixture.sale(quantity: 3, version: 1))
        #expect(result == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 3)
        #expect(ledger.figures(itemID: "ITEM-1", locationID: "WH-A")?.open == -3)
        #expect(ledger.figures(itemID: "ITEM-1", locationID: "WH-A")?.zohoOnHand == onHand)
        #expect(ledger.lineCount == 1)
    }

    @Test func sameVersionSameQuantityIsDuplicate() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 3, version: 5))
        ledger.beginBatch()
        let outcome = ledger.apply(Fixture.sale(quantity: 3, version: 5), now: Fixture.now)
        #expect(outcome.result == .duplicate)
        #expect(outcome.problem == nil)
        #expect(ledger.batchIsEmpty)
        #expect(ledger.stagedChanges().isEmpty)
        ledger.commitBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 3)
    }

    @Test func olderVersionIsStale() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 3, version: 5))
        ledger.beginBatch()
        #expect(ledger.apply(Fixture.sale(quantity: 7, version: 4), now: Fixture.now).result == .stale)
        #expect(ledger.apply(Fixture.sale(quantity: 3, version: 0), now: Fixture.now).result == .stale)
        #expect(ledger.batchIsEmpty)
        ledger.commitBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 3)
    }

    @Test func sameVersionDifferentQuantityIsConflict() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 3, version: 5))
        ledger.beginBatch()
        let conflicting = Fixture.sale(quantity: 4, version: 5)
        #expect(ledger.apply(conflicting, now: Fixture.now).result == .conflict)
        #expect(!ledger.batchIsEmpty)
        let changes = ledger.stagedChanges()
        #expect(changes.conflicts == [conflicting])
        #expect(changes.rows.isEmpty)
        #expect(changes.lines.isEmpty)
        ledger.commitBatch()
        // Not applied: the line still holds 3.
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 3)
        #expect(ledger.commitEvent(Fixture.sale(quantity: 3, version: 5)) == .duplicate)
    }

    @Test func sameVersionOnAnotherListingIsConflict() throws {
        let ledger = try Fixture.ledger(
            onHand: [("ITEM-1", "WH-A", onHand), ("ITEM-2", "WH-A", onHand)],
            maps: [
                Fixture.itemMap("L-1", item: "ITEM-1"),
                Fixture.itemMap("L-2", item: "ITEM-2"),
            ])
        ledger.commitEvent(Fixture.sale("L-1", quantity: 2, version: 5))
        ledger.beginBatch()
        let other = Fixture.sale("L-2", quantity: 2, version: 5)
        #expect(ledger.apply(other, now: Fixture.now).result == .conflict)
        #expect(ledger.stagedChanges().conflicts == [other])
        ledger.commitBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand)
    }

    @Test func eventWithoutListingMapIsParked() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        let event = Fixture.sale("L-UNKNOWN", quantity: 2, version: 1)
        #expect(ledger.apply(event, now: Fixture.now).result == .unmapped)
        #expect(ledger.parkedCount == 1)
        #expect(ledger.stagedChanges().parkedListings.count == 1)
        let listing = ledger.stagedChanges().parkedListings[0]
        #expect(ledger.parkedEvents(listing).events == [event])
        #expect(ledger.parkedEvents(listing).key == ListingKey(channel: .shopify, listingID: "L-UNKNOWN"))
        ledger.commitBatch()
        #expect(ledger.parkedCount == 1)
        #expect(ledger.lineCount == 0)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
        #expect(ledger.totals().available == onHand)
    }

    @Test func everyResultKindOnce() throws {
        let ledger = try seeded()
        let results = ledger.commitEvents([
            Fixture.sale(quantity: 2, version: 2),
            Fixture.sale(quantity: 2, version: 2),
            Fixture.sale(quantity: 1, version: 1),
            Fixture.sale(quantity: 9, version: 2),
            Fixture.sale("L-NONE", line: "2", quantity: 1, version: 1),
            Fixture.sale(quantity: -1, version: 3),
        ])
        #expect(results == [.applied, .duplicate, .stale, .conflict, .unmapped, .invalid])
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2)
    }

    // MARK: Invalid events

    static let invalidEvents: [(String, SaleEvent, String)] = [
        ("negative quantity", Fixture.sale(quantity: -1, version: 1), "quantity"),
        ("quantity above the line limit", Fixture.sale(quantity: Limits.maxLineQuantity + 1, version: 1), "quantity"),
        ("negative version", Fixture.sale(quantity: 1, version: -1), "version"),
        ("empty listing id", Fixture.sale("", quantity: 1, version: 1), "listing_id"),
        ("empty order id", Fixture.sale(order: "", quantity: 1, version: 1), "order_id"),
        ("empty line id", Fixture.sale(line: "", quantity: 1, version: 1), "line_id"),
        ("newline in order id", Fixture.sale(order: "O\n1", quantity: 1, version: 1), "order_id"),
        ("unit separator in line id", Fixture.sale(line: "1\u{1F}2", quantity: 1, version: 1), "line_id"),
        ("NUL in listing id", Fixture.sale("L\u{0}1", quantity: 1, version: 1), "listing_id"),
        ("DEL in order id", Fixture.sale(order: "O\u{7F}", quantity: 1, version: 1), "order_id"),
        ("tab in location id", Fixture.sale(quantity: 1, version: 1, location: "WH\tA"), "location_id"),
        ("empty location id", Fixture.sale(quantity: 1, version: 1, location: ""), "location_id"),
        ("over-long line id", Fixture.sale(line: String(repeating: "x", count: Limits.maxIDLength + 1), quantity: 1, version: 1), "line_id"),
        ("location not among the listing's", Fixture.sale(quantity: 1, version: 1, location: "WH-Z"), "location_id"),
    ]

    @Test(arguments: invalidEvents)
    func invalidEventChangesNothing(_ name: String, _ event: SaleEvent, _ field: String) throws {
        let ledger = try seeded()
        ledger.beginBatch()
        let outcome = ledger.apply(event, now: Fixture.now)
        #expect(outcome.result == .invalid, "\(name)")
        #expect(outcome.problem?.field == field, "\(name)")
        #expect(outcome.problem?.message.isEmpty == false)
        #expect(ledger.batchIsEmpty)
        #expect(ledger.stagedChanges().isEmpty)
        #expect(ledger.stagedOversells == 0)
        #expect(ledger.parkedCount == 0)
        ledger.commitBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
        #expect(ledger.lineCount == 0)
    }

    @Test func longestAllowedIDIsAccepted() throws {
        let ledger = try seeded()
        let longest = String(repeating: "é", count: Limits.maxIDLength / 2)  // 2 bytes each
        #expect(longest.utf8.count == Limits.maxIDLength)
        #expect(ledger.commitEvent(Fixture.sale(order: longest, line: longest, quantity: 1, version: 1)) == .applied)
        #expect(ledger.commitEvent(Fixture.sale(order: longest, line: longest, quantity: 1, version: 1)) == .duplicate)
    }

    @Test func invalidEventForAnExistingLineLeavesItUntouched() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 3, version: 1))
        #expect(ledger.commitEvent(Fixture.sale(quantity: -5, version: 2)) == .invalid)
        // Version 2 was not recorded: a valid version-2 event still applies.
        #expect(ledger.commitEvent(Fixture.sale(quantity: 4, version: 2)) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 4)
    }

    // MARK: Line lifecycle

    @Test func editsMoveStockByTheDifference() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 3, version: 1))
        #expect(ledger.commitEvent(Fixture.sale(quantity: 5, version: 2)) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 5)
        #expect(ledger.commitEvent(Fixture.sale(quantity: 2, version: 3)) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2)
        #expect(ledger.lineCount == 1)
    }

    @Test func newerVersionWithSameQuantityIsAppliedWithoutMovingStock() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 3, version: 1))
        ledger.beginBatch()
        #expect(ledger.apply(Fixture.sale(quantity: 3, version: 2), now: Fixture.now).result == .applied)
        #expect(ledger.stagedChanges().lines.count == 1)
        #expect(ledger.stagedChanges().rows.isEmpty)
        ledger.commitBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 3)
        // The stored version moved on: version 1 is now stale.
        #expect(ledger.commitEvent(Fixture.sale(quantity: 3, version: 1)) == .stale)
    }

    @Test func cancellationReturnsTheWholeLine() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 4, version: 1))
        #expect(ledger.commitEvent(Fixture.sale(quantity: 0, version: 2)) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
        // A cancelled line is still known: its older create cannot come back.
        #expect(ledger.commitEvent(Fixture.sale(quantity: 4, version: 1)) == .stale)
        #expect(ledger.commitEvent(Fixture.sale(quantity: 0, version: 2)) == .duplicate)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
    }

    @Test func restockingRefundReturnsOnlyRestockedUnits() throws {
        let ledger = try seeded()
        let sold: Int64 = 5
        let restocked: Int64 = 2
        ledger.commitEvent(Fixture.sale(quantity: sold, version: 1))
        #expect(ledger.commitEvent(Fixture.sale(quantity: sold - restocked, version: 2)) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - (sold - restocked))
    }

    @Test func updateArrivingBeforeCreateWins() throws {
        let ledger = try seeded()
        #expect(ledger.commitEvent(Fixture.sale(quantity: 6, version: 2)) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 6)
        #expect(ledger.commitEvent(Fixture.sale(quantity: 4, version: 1)) == .stale)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 6)
    }

    @Test func cancellationArrivingFirst() throws {
        let ledger = try seeded()
        #expect(ledger.commitEvent(Fixture.sale(quantity: 0, version: 3)) == .applied)
        #expect(ledger.lineCount == 1)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
        #expect(ledger.commitEvent(Fixture.sale(quantity: 4, version: 1)) == .stale)
        #expect(ledger.commitEvent(Fixture.sale(quantity: 4, version: 2)) == .stale)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
        // A later reinstatement applies.
        #expect(ledger.commitEvent(Fixture.sale(quantity: 1, version: 4)) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 1)
    }

    @Test func eventsInOneBatchSeeEachOther() throws {
        let ledger = try seeded()
        let results = ledger.commitEvents([
            Fixture.sale(quantity: 2, version: 1),
            Fixture.sale(quantity: 5, version: 3),
            Fixture.sale(quantity: 4, version: 2),
            Fixture.sale(quantity: 5, version: 3),
        ])
        #expect(results == [.applied, .applied, .stale, .duplicate])
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 5)
    }

    // MARK: Line identity

    @Test func sameIDsOnAnotherChannelAreAnotherLine() throws {
        let ledger = try Fixture.ledger(
            onHand: [("ITEM-1", "WH-A", onHand)],
            maps: [
                Fixture.itemMap("L-1", item: "ITEM-1", channel: .shopify),
                Fixture.itemMap("L-1", item: "ITEM-1", channel: .etsy),
            ])
        let results = ledger.commitEvents([
            Fixture.sale("L-1", order: "O-9", line: "1", quantity: 2, version: 1, channel: .shopify),
            Fixture.sale("L-1", order: "O-9", line: "1", quantity: 3, version: 1, channel: .etsy),
        ])
        #expect(results == [.applied, .applied])
        #expect(ledger.lineCount == 2)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2 - 3)
    }

    @Test func linesOfOneOrderAreSeparate() throws {
        let ledger = try seeded()
        let results = ledger.commitEvents([
            Fixture.sale(order: "O-7", line: "1", quantity: 2, version: 1),
            Fixture.sale(order: "O-7", line: "2", quantity: 3, version: 1),
            // The key joins order and line with a separator: these are not the same line.
            Fixture.sale(order: "O-71", line: "2", quantity: 1, version: 1),
            Fixture.sale(order: "O-7", line: "12", quantity: 1, version: 1),
        ])
        #expect(results == [.applied, .applied, .applied, .applied])
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2 - 3 - 1 - 1)
    }

    @Test func lineMovingToAnotherListingReleasesTheFirst() throws {
        let ledger = try Fixture.ledger(
            onHand: [("ITEM-1", "WH-A", onHand), ("ITEM-2", "WH-A", onHand)],
            maps: [
                Fixture.itemMap("L-1", item: "ITEM-1"),
                Fixture.itemMap("L-2", item: "ITEM-2"),
            ])
        ledger.commitEvent(Fixture.sale("L-1", quantity: 2, version: 1))
        #expect(ledger.commitEvent(Fixture.sale("L-2", quantity: 3, version: 2)) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand - 3)
        #expect(ledger.lineCount == 1)
    }

    @Test func stagedChangesNameTheChangedLineAndRow() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        _ = ledger.apply(Fixture.sale(order: "O-5", line: "L9", quantity: 3, version: 7), now: Fixture.now + 1)
        let changes = ledger.stagedChanges()
        #expect(changes.lines.count == 1)
        let record = ledger.lineRecord(changes.lines[0])
        #expect(record.live)
        #expect(record.quantity == 3)
        #expect(record.version == 7)
        #expect(record.touched == Fixture.now + 1)
        let key = ledger.lineKey(changes.lines[0])
        #expect(key.channel == Channel.shopify.rawValue)
        #expect(key.order == "O-5")
        #expect(key.line == "L9")
        #expect(changes.rows.count == 1)
        let row = ledger.row(changes.rows[0])
        #expect(row.itemID == "ITEM-1")
        #expect(row.locationID == "WH-A")
        #expect(row.figures.available == onHand - 3)
        #expect(changes.consumptions.count == 1)
        let consumption = ledger.consumption(record.consumption)
        #expect(consumption.locationID == "WH-A")
        #expect(consumption.listing == ListingKey(channel: .shopify, listingID: "L-1"))
        #expect(consumption.parts.map(\.itemID) == ["ITEM-1"])
        #expect(consumption.parts.map(\.units) == [1])
        ledger.commitBatch()
    }

    // MARK: Restock lines

    @Test func restocksNeverGiveBackMoreThanTheirLineHolds() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(line: "7", quantity: 5, version: 1))
        func restock(_ line: String, _ units: Int64) -> EventResult {
            ledger.batch { ledger.apply(validated: Fixture.sale(line: line, quantity: -units, version: 2), now: Fixture.now).result }
        }
        #expect(restock("7:restock:a", 6) == .conflict)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 5)
        #expect(restock("7:restock:a", 3) == .applied)
        #expect(restock("7:restock:a", 3) == .duplicate)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2)
        // A restock rolled back gives nothing back, and holds back nothing after.
        ledger.beginBatch()
        #expect(ledger.apply(validated: Fixture.sale(line: "7:restock:b", quantity: -2, version: 2), now: Fixture.now).result == .applied)
        ledger.rollbackBatch()
        #expect(restock("7:restock:c", 3) == .conflict)
        #expect(restock("7:restock:c", 2) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
        // A line the ledger does not hold has nothing to give back; other releases are untouched.
        #expect(restock("9:restock:x", 1) == .conflict)
        #expect(restock("restock-7", 1) == .applied)
    }
}
