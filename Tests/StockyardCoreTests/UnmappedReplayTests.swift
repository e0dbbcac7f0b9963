@testable import StockyardCore
import Testing

/// Events for a listing without a map are parked and replayed, in arrival order, when the map
/// arrives.
@Suite struct UnmappedReplayTests {
    let onHand: Int64 = 30

    @Test func parkedEventsReplayInArrivalOrderWithTheirOutcomes() throws {
        let ledger = try Fixture.ledger(onHand: [("ITEM-1", "WH-A", onHand)])
        let arrivals = [
            Fixture.sale("L-1", line: "1", quantity: 2, version: 1),
            Fixture.sale("L-1", line: "1", quantity: 5, version: 2),
            Fixture.sale("L-1", line: "1", quantity: 2, version: 1),  // older than the edit before it
            Fixture.sale("L-1", line: "2", quantity: 1, version: 1),
            Fixture.sale("L-1", line: "2", quantity: 1, version: 1),  // retry
            Fixture.sale("L-1", line: "2", quantity: 4, version: 1),  // same version, other content
        ]
        let parkedResults = ledger.commitEvents(arrivals)
        #expect(parkedResults == Array(repeating: .unmapped, count: arrivals.count))
        #expect(ledger.parkedCount == arrivals.count)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)

        ledger.beginBatch()
        let replayed = try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-1"), now: Fixture.now)
        #expect(replayed.map(\.0) == arrivals)
        #expect(replayed.map(\.1.result) == [.applied, .applied, .stale, .applied, .duplicate, .conflict])
        #expect(ledger.stagedChanges().conflicts == [arrivals[5]])
        #expect(ledger.parkedCount == 0)
        ledger.commitBatch()

        // Line 1 ends at its version-2 quantity, line 2 at its first.
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 5 - 1)
        #expect(ledger.lineCount == 2)
    }

    @Test func onlyTheMappedListingsEventsReplay() throws {
        let ledger = try Fixture.ledger(onHand: [("ITEM-1", "WH-A", onHand), ("ITEM-2", "WH-A", onHand)])
        ledger.commitEvents([
            Fixture.sale("L-1", line: "1", quantity: 2, version: 1),
            Fixture.sale("L-2", line: "2", quantity: 3, version: 1),
        ])
        #expect(ledger.parkedCount == 2)
        let replayed = try ledger.batch {
            try ledger.upsertListing(Fixture.itemMap("L-2", item: "ITEM-2"), now: Fixture.now)
        }
        #expect(replayed.count == 1)
        #expect(replayed.first?.0.listingID == "L-2")
        #expect(ledger.parkedCount == 1)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand - 3)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
        // Mapping the listing again replays nothing more.
        let again = try ledger.batch {
            try ledger.upsertListing(Fixture.itemMap("L-2", item: "ITEM-2"), now: Fixture.now)
        }
        #expect(again.isEmpty)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand - 3)
    }

    @Test func parkedEventsAreKeyedByChannel() throws {
        let ledger = try Fixture.ledger(onHand: [("ITEM-1", "WH-A", onHand)])
        ledger.commitEvents([
            Fixture.sale("SKU-1", line: "1", quantity: 2, version: 1, channel: .amazon),
            Fixture.sale("SKU-1", line: "1", quantity: 2, version: 1, channel: .ebay),
        ])
        let replayed = try ledger.batch {
            try ledger.upsertListing(Fixture.itemMap("SKU-1", item: "ITEM-1", channel: .amazon), now: Fixture.now)
        }
        #expect(replayed.map(\.0.channel) == [.amazon])
        #expect(ledger.parkedCount == 1)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2)
    }

    @Test func replayedEventCanBeInvalidForTheNewMap() throws {
        let ledger = try Fixture.ledger(onHand: [("ITEM-1", "WH-A", onHand)])
        ledger.commitEvent(Fixture.sale("L-1", quantity: 2, version: 1, location: "WH-B"))
        let replayed = try ledger.batch {
            try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-A"]), now: Fixture.now)
        }
        #expect(replayed.map(\.1.result) == [.invalid])
        #expect(replayed.first?.1.problem?.field == "location_id")
        #expect(ledger.parkedCount == 0)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
    }

    @Test func invalidMapIsRejectedAndParkedEventsStay() throws {
        let ledger = try Fixture.ledger(onHand: [("ITEM-1", "WH-A", onHand)])
        ledger.commitEvent(Fixture.sale("L-1", quantity: 2, version: 1))
        ledger.beginBatch()
        #expect(throws: ValidationProblem.self) {
            try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-1", locations: []), now: Fixture.now)
        }
        #expect(ledger.batchIsEmpty)
        ledger.commitBatch()
        #expect(ledger.parkedCount == 1)
        #expect(ledger.listingMap(ListingKey(channel: .shopify, listingID: "L-1")) == nil)
    }

    @Test func replayedLinesRecordTheUpsertTime() throws {
        let ledger = try Fixture.ledger(onHand: [("ITEM-1", "WH-A", onHand)])
        ledger.commitEvent(Fixture.sale("L-1", quantity: 2, version: 1), now: 10)
        ledger.beginBatch()
        _ = try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-1"), now: 20)
        let lines = ledger.stagedChanges().lines
        #expect(lines.count == 1)
        #expect(ledger.lineRecord(lines[0]).touched == 20)
        ledger.commitBatch()
    }

    @Test func parkedEventForAnExistingLineMovesItWhenReplayed() throws {
        let ledger = try Fixture.ledger(
            onHand: [("ITEM-1", "WH-A", onHand), ("ITEM-2", "WH-A", onHand)],
            maps: [Fixture.itemMap("L-1", item: "ITEM-1")])
        ledger.commitEvent(Fixture.sale("L-1", quantity: 2, version: 1))
        // The line's newer state names a listing with no map yet.
        #expect(ledger.commitEvent(Fixture.sale("L-2", quantity: 3, version: 2)) == .unmapped)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2)
        let replayed = try ledger.batch {
            try ledger.upsertListing(Fixture.itemMap("L-2", item: "ITEM-2"), now: Fixture.now)
        }
        #expect(replayed.map(\.1.result) == [.applied])
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
        #expect(ledger.available("ITEM-2", "WH-A") == onHand - 3)
    }
}
