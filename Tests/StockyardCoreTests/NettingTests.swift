@testable import StockyardCore
import Testing

/// Accepted changes are netted per item × location; sealing moves open nets in flight, and the
/// Zoho outcome either confirms them into Zoho's figure or returns them to open.
@Suite struct NettingTests {
    let onHand: Int64 = 50

    /// ITEM-1 and ITEM-2 at WH-A and WH-B.
    func seeded() throws -> Ledger {
        try Fixture.ledger(
            onHand: [
                ("ITEM-1", "WH-A", onHand), ("ITEM-1", "WH-B", onHand),
                ("ITEM-2", "WH-A", onHand), ("ITEM-2", "WH-B", onHand),
            ],
            maps: [
                Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-A", "WH-B"]),
                Fixture.itemMap("L-2", item: "ITEM-2", locations: ["WH-A", "WH-B"]),
            ])
    }

    func nets(_ lines: [NetLine]) -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: lines.map { ("\($0.itemID)@\($0.locationID)", $0.quantity) })
    }

    @Test func openNetsArePerItemAndLocation() throws {
        let ledger = try seeded()
        #expect(ledger.openNets().isEmpty)
        ledger.commitEvents([
            Fixture.sale("L-1", line: "1", quantity: 2, version: 1),
            Fixture.sale("L-1", line: "2", quantity: 1, version: 1),
            Fixture.sale("L-1", line: "3", quantity: 4, version: 1, location: "WH-B"),
            Fixture.sale("L-2", line: "4", quantity: 3, version: 1),
        ])
        #expect(nets(ledger.openNets()) == ["ITEM-1@WH-A": -(2 + 1), "ITEM-1@WH-B": -4, "ITEM-2@WH-A": -3])
        // Zoho's figures are untouched until a batch is confirmed.
        #expect(ledger.figures(itemID: "ITEM-1", locationID: "WH-A")?.zohoOnHand == onHand)
    }

    @Test func zeroNetsAreDropped() throws {
        let ledger = try seeded()
        ledger.commitEvents([
            Fixture.sale("L-1", line: "1", quantity: 2, version: 1),
            Fixture.sale("L-2", line: "2", quantity: 3, version: 1),
        ])
        ledger.commitEvent(Fixture.sale("L-2", line: "2", quantity: 0, version: 2))
        #expect(nets(ledger.openNets()) == ["ITEM-1@WH-A": -2])
        #expect(ledger.openNetRowCount >= 1)
    }

    @Test func sealingMovesOpenToInFlight() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale("L-1", quantity: 3, version: 1))
        let sealed = ledger.batch { ledger.sealNets(maxLines: 10) }
        #expect(sealed == [NetLine(itemID: "ITEM-1", locationID: "WH-A", quantity: -3)])
        #expect(ledger.openNets().isEmpty)
        let figures = try #require(ledger.figures(itemID: "ITEM-1", locationID: "WH-A"))
        #expect(figures.open == 0)
        #expect(figures.inFlight == -3)
        #expect(figures.unsynced == -3)
        #expect(figures.available == onHand - 3)
        // Nothing left to seal.
        #expect(ledger.batch { ledger.sealNets(maxLines: 10) }.isEmpty)
    }

    @Test func sealingRespectsMaxLines() throws {
        let ledger = try seeded()
        ledger.commitEvents([
            Fixture.sale("L-1", line: "1", quantity: 1, version: 1),
            Fixture.sale("L-1", line: "2", quantity: 2, version: 1, location: "WH-B"),
            Fixture.sale("L-2", line: "3", quantity: 3, version: 1),
        ])
        let all = nets(ledger.openNets())
        #expect(all.count == 3)
        #expect(ledger.batch { ledger.sealNets(maxLines: 0) }.isEmpty)
        let first = ledger.batch { ledger.sealNets(maxLines: 2) }
        #expect(first.count == 2)
        #expect(nets(ledger.openNets()).count == 1)
        let second = ledger.batch { ledger.sealNets(maxLines: 2) }
        #expect(second.count == 1)
        // Every net is sealed exactly once, with its full quantity.
        #expect(nets(first + second) == all)
        #expect(ledger.openNets().isEmpty)
    }

    @Test func sealingSkipsNetsThatReturnedToZero() throws {
        let ledger = try seeded()
        ledger.commitEvents([
            Fixture.sale("L-1", line: "1", quantity: 2, version: 1),
            Fixture.sale("L-2", line: "2", quantity: 3, version: 1),
        ])
        ledger.commitEvent(Fixture.sale("L-1", line: "1", quantity: 0, version: 2))
        // The zero net does not use up one of the lines.
        let sealed = ledger.batch { ledger.sealNets(maxLines: 1) }
        #expect(sealed == [NetLine(itemID: "ITEM-2", locationID: "WH-A", quantity: -3)])
    }

    @Test func confirmedBatchMovesIntoZohoOnHand() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale("L-1", quantity: 3, version: 1))
        let sealed = ledger.batch { ledger.sealNets(maxLines: 10) }
        let before = try #require(ledger.figures(itemID: "ITEM-1", locationID: "WH-A"))
        ledger.batch { ledger.resolveNets(sealed, confirmed: true) }
        let after = try #require(ledger.figures(itemID: "ITEM-1", locationID: "WH-A"))
        #expect(after.zohoOnHand == onHand - 3)
        #expect(after.inFlight == 0)
        #expect(after.open == 0)
        #expect(after.available == before.available)
        #expect(ledger.openNets().isEmpty)
    }

    @Test func failedBatchReturnsToOpen() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale("L-1", quantity: 3, version: 1))
        let sealed = ledger.batch { ledger.sealNets(maxLines: 10) }
        ledger.batch { ledger.resolveNets(sealed, confirmed: false) }
        let figures = try #require(ledger.figures(itemID: "ITEM-1", locationID: "WH-A"))
        #expect(figures.zohoOnHand == onHand)
        #expect(figures.inFlight == 0)
        #expect(figures.open == -3)
        #expect(figures.available == onHand - 3)
        #expect(ledger.openNets() == sealed)
        // It is sealed again by the next flush.
        #expect(ledger.batch { ledger.sealNets(maxLines: 10) } == sealed)
    }

    @Test func salesDuringAFlightNetSeparately() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale("L-1", line: "1", quantity: 3, version: 1))
        let sealed = ledger.batch { ledger.sealNets(maxLines: 10) }
        ledger.commitEvent(Fixture.sale("L-1", line: "2", quantity: 2, version: 1))
        #expect(ledger.openNets() == [NetLine(itemID: "ITEM-1", locationID: "WH-A", quantity: -2)])
        ledger.batch { ledger.resolveNets(sealed, confirmed: false) }
        // The failed batch folds back into the open net.
        #expect(ledger.openNets() == [NetLine(itemID: "ITEM-1", locationID: "WH-A", quantity: -5)])
        let figures = try #require(ledger.figures(itemID: "ITEM-1", locationID: "WH-A"))
        #expect(figures.available == onHand - 5)
    }

    @Test func cancelAfterSealingNetsPositive() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale("L-1", quantity: 3, version: 1))
        let sealed = ledger.batch { ledger.sealNets(maxLines: 10) }
        ledger.commitEvent(Fixture.sale("L-1", quantity: 0, version: 2))
        #expect(ledger.openNets() == [NetLine(itemID: "ITEM-1", locationID: "WH-A", quantity: 3)])
        ledger.batch { ledger.resolveNets(sealed, confirmed: true) }
        let second = ledger.batch { ledger.sealNets(maxLines: 10) }
        ledger.batch { ledger.resolveNets(second, confirmed: true) }
        let figures = try #require(ledger.figures(itemID: "ITEM-1", locationID: "WH-A"))
        #expect(figures.zohoOnHand == onHand)
        #expect(figures.unsynced == 0)
    }

    @Test func bundleSalesNetOnTheirComponents() throws {
        let ledger = try Fixture.ledger(
            onHand: [("MUG", "WH-A", 10), ("TEA", "WH-A", 10)],
            maps: [Fixture.bundleMap("BOX", components: [("MUG", 2), ("TEA", 3)], locations: ["WH-A"])])
        ledger.commitEvent(Fixture.sale("BOX", quantity: 2, version: 1))
        #expect(nets(ledger.openNets()) == ["MUG@WH-A": -2 * 2, "TEA@WH-A": -2 * 3])
    }

    @Test func rolledBackSealLeavesTheNetsOpen() throws {
        let ledger = try seeded()
        ledger.commitEvents([
            Fixture.sale("L-1", line: "1", quantity: 1, version: 1),
            Fixture.sale("L-2", line: "2", quantity: 2, version: 1),
        ])
        let open = nets(ledger.openNets())
        ledger.beginBatch()
        #expect(ledger.sealNets(maxLines: 10).count == 2)
        ledger.rollbackBatch()
        #expect(nets(ledger.openNets()) == open)
        let figures = try #require(ledger.figures(itemID: "ITEM-2", locationID: "WH-A"))
        #expect(figures.inFlight == 0)
        #expect(nets(ledger.batch { ledger.sealNets(maxLines: 10) }) == open)
    }

    @Test func resolvingUnknownRowsIsIgnored() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        ledger.resolveNets([NetLine(itemID: "GHOST", locationID: "WH-A", quantity: -1)], confirmed: true)
        #expect(ledger.batchIsEmpty)
        ledger.commitBatch()
    }

    @Test func setOnHandReplacesZohosFigureOnly() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale("L-1", quantity: 3, version: 1))
        try ledger.batch { try ledger.setOnHand(itemID: "ITEM-1", locationID: "WH-A", quantity: 40) }
        let figures = try #require(ledger.figures(itemID: "ITEM-1", locationID: "WH-A"))
        #expect(figures.zohoOnHand == 40)
        #expect(figures.open == -3)
        #expect(figures.available == 40 - 3)
    }
}
