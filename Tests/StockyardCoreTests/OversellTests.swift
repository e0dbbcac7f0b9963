@testable import StockyardCore
import Testing

/// Marketplace sales are never refused: available may go negative, and each sale that takes a
/// row below zero is counted as an oversell.
@Suite struct OversellTests {
    let onHand: Int64 = 3
    let components: Int64 = 4

    func seeded() throws -> Ledger {
        try Fixture.ledger(
            onHand: [("ITEM-1", "WH-A", onHand), ("MUG", "WH-A", components), ("TEA", "WH-A", components)],
            maps: [
                Fixture.itemMap("L-1", item: "ITEM-1"),
                Fixture.bundleMap("BOX", components: [("MUG", 2), ("TEA", 3)], locations: ["WH-A"]),
            ])
    }

    @Test func saleDownToZeroIsNoOversell() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        #expect(ledger.apply(Fixture.sale(quantity: onHand, version: 1), now: Fixture.now).result == .applied)
        #expect(ledger.stagedOversells == 0)
        ledger.commitBatch()
        #expect(ledger.totals().oversoldRows == 0)
    }

    @Test func saleBelowZeroIsAppliedAndCounted() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        #expect(ledger.apply(Fixture.sale(quantity: onHand + 2, version: 1), now: Fixture.now).result == .applied)
        #expect(ledger.stagedOversells == 1)
        ledger.commitBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == -2)
        #expect(ledger.totals().oversoldRows == 1)
    }

    @Test func editUpBelowZeroIsCounted() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 1, version: 1))
        ledger.beginBatch()
        _ = ledger.apply(Fixture.sale(quantity: onHand + 1, version: 2), now: Fixture.now)
        #expect(ledger.stagedOversells == 1)
        ledger.commitBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == -1)
    }

    @Test func returningStockIsNoOversell() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: onHand + 4, version: 1))
        ledger.beginBatch()
        // Still negative afterwards, but the change gives stock back.
        _ = ledger.apply(Fixture.sale(quantity: onHand + 1, version: 2), now: Fixture.now)
        #expect(ledger.stagedOversells == 0)
        ledger.commitBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == -1)
    }

    @Test func countIsPerBatch() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        _ = ledger.apply(Fixture.sale(quantity: onHand + 1, version: 1), now: Fixture.now)
        #expect(ledger.stagedOversells == 1)
        ledger.commitBatch()
        ledger.beginBatch()
        #expect(ledger.stagedOversells == 0)
        _ = ledger.apply(Fixture.sale(quantity: onHand + 1, version: 1), now: Fixture.now)
        #expect(ledger.stagedOversells == 0)  // duplicate
        ledger.commitBatch()
    }

    @Test func bundleCountsEachOversoldComponent() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        // One box needs 2 mugs and 3 teas: fits. Two boxes need 4 mugs (fits exactly) and 6 teas.
        _ = ledger.apply(Fixture.sale("BOX", quantity: 2, version: 1), now: Fixture.now)
        #expect(ledger.stagedOversells == 1)
        ledger.rollbackBatch()
        ledger.beginBatch()
        // Three boxes: 6 mugs and 9 teas, both rows below zero.
        _ = ledger.apply(Fixture.sale("BOX", quantity: 3, version: 1), now: Fixture.now)
        #expect(ledger.stagedOversells == 2)
        ledger.commitBatch()
        #expect(ledger.totals().oversoldRows == 2)
        #expect(ledger.available("MUG", "WH-A") == components - 3 * 2)
        #expect(ledger.available("TEA", "WH-A") == components - 3 * 3)
    }

    @Test func rollbackForgetsOversells() throws {
        let ledger = try seeded()
        ledger.beginBatch()
        let start = ledger.savepoint()
        _ = ledger.apply(Fixture.sale(quantity: onHand + 1, version: 1), now: Fixture.now)
        #expect(ledger.stagedOversells == 1)
        ledger.rollback(to: start)
        #expect(ledger.stagedOversells == 0)
        ledger.rollbackBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == onHand)
    }

    @Test func totalsSumCommittedAvailable() throws {
        let ledger = try seeded()
        #expect(ledger.totals().available == onHand + components * 2)
        ledger.commitEvent(Fixture.sale(quantity: onHand + 2, version: 1))
        #expect(ledger.totals().available == onHand + components * 2 - (onHand + 2))
        #expect(ledger.totals().oversoldRows == 1)
    }
}
