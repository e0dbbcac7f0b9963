@testable import StockyardCore
import Testing

/// The writer's path for events validated at the edge still refuses what would break the ledger.
@Suite struct ValidatedApplyTests {
    private func ledger() throws -> Ledger {
        let ledger = Ledger()
        ledger.beginBatch()
        _ = try ledger.upsertListing(Fixture.itemMap(), now: Fixture.now)
        try ledger.setOnHand(itemID: "ITEM-1", locationID: "WH-A", quantity: 10)
        ledger.commitBatch()
        return ledger
    }

    @Test func appliesLikeTheCheckedPath() throws {
        let checked = try ledger()
        let trusted = try ledger()
        let events = [
            Fixture.sale(quantity: 3, version: 1), Fixture.sale(quantity: 3, version: 1),
            Fixture.sale(quantity: 1, version: 2), Fixture.sale(quantity: 5, version: 1),
        ]
        checked.beginBatch()
        trusted.beginBatch()
        let expected = events.map { checked.apply($0, now: Fixture.now).result }
        let actual = events.map { trusted.apply(validated: $0, now: Fixture.now).result }
        checked.commitBatch()
        trusted.commitBatch()
        #expect(actual == expected)
        #expect(trusted.figures(itemID: "ITEM-1", locationID: "WH-A") == checked.figures(itemID: "ITEM-1", locationID: "WH-A"))
    }

    @Test(arguments: [
        Fixture.sale(quantity: -Limits.maxLineQuantity - 1, version: 1),
        Fixture.sale(quantity: Limits.maxLineQuantity + 1, version: 1),
        Fixture.sale(quantity: 1, version: -1),
        Fixture.sale(String(repeating: "L", count: 300), quantity: 1, version: 1),
        Fixture.sale(order: String(repeating: "é", count: 150), quantity: 1, version: 1),
    ])
    func refusesWhatWouldBreakTheLedger(_ event: SaleEvent) throws {
        let ledger = try ledger()
        ledger.beginBatch()
        let outcome = ledger.apply(validated: event, now: Fixture.now)
        #expect(outcome.result == .invalid)
        #expect(outcome.problem != nil)
        #expect(ledger.batchIsEmpty)
        ledger.rollbackBatch()
    }

    @Test func negativeQuantitiesAreReleasesOnlyOnTheValidatedPath() throws {
        let ledger = try ledger()
        ledger.beginBatch()
        // Callers' events may not give units back...
        #expect(ledger.apply(Fixture.sale(line: "r", quantity: -2, version: 1), now: Fixture.now).result == .invalid)
        // ...a channel's restocking refund, read and checked at the edge, does.
        let release = Fixture.sale(line: "r", quantity: -2, version: 1)
        #expect(release.validate(allowingReleases: true) == nil)
        #expect(ledger.apply(validated: release, now: Fixture.now).result == .applied)
        #expect(ledger.apply(validated: release, now: Fixture.now).result == .duplicate)
        ledger.commitBatch()
        let available = ledger.figures(itemID: "ITEM-1", locationID: "WH-A")?.available
        #expect(available == 12)
    }
}
