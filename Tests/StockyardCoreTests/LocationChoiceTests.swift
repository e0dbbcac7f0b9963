@testable import StockyardCore
import Testing

/// Which warehouse a new line draws on: the first eligible location (in priority order) whose
/// available covers the whole line, else the first eligible one.
@Suite struct LocationChoiceTests {
    let small: Int64 = 2
    let large: Int64 = 10

    /// ITEM-1 at WH-A (small) and WH-B (large); the listing prefers WH-A.
    func twoWarehouses(rules: [AllocationRule] = [], locations: [String] = ["WH-A", "WH-B"]) throws -> Ledger {
        try Fixture.ledger(
            onHand: [("ITEM-1", "WH-A", small), ("ITEM-1", "WH-B", large), ("ITEM-1", "WH-C", large)],
            maps: [Fixture.itemMap("L-1", item: "ITEM-1", locations: locations)],
            rules: rules)
    }

    @Test func firstLocationWhenItCovers() throws {
        let ledger = try twoWarehouses()
        ledger.commitEvent(Fixture.sale(quantity: small, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == 0)
        #expect(ledger.available("ITEM-1", "WH-B") == large)
    }

    @Test func nextLocationWhenTheFirstCannotCover() throws {
        let ledger = try twoWarehouses()
        ledger.commitEvent(Fixture.sale(quantity: small + 1, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == small)
        #expect(ledger.available("ITEM-1", "WH-B") == large - (small + 1))
    }

    @Test func listingOrderIsThePriority() throws {
        let ledger = try twoWarehouses(locations: ["WH-B", "WH-A"])
        ledger.commitEvent(Fixture.sale(quantity: 1, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == small)
        #expect(ledger.available("ITEM-1", "WH-B") == large - 1)
    }

    @Test func firstLocationWhenNoneCovers() throws {
        let ledger = try twoWarehouses()
        let quantity = large + 1
        ledger.beginBatch()
        _ = ledger.apply(Fixture.sale(quantity: quantity, version: 1), now: Fixture.now)
        #expect(ledger.stagedOversells == 1)
        ledger.commitBatch()
        #expect(ledger.available("ITEM-1", "WH-A") == small - quantity)
        #expect(ledger.available("ITEM-1", "WH-B") == large)
    }

    @Test func salesInOneBatchSeeEachOthersConsumption() throws {
        let ledger = try twoWarehouses()
        // The first takes WH-A down to 0; the second no longer fits there.
        ledger.commitEvents([
            Fixture.sale(line: "1", quantity: small, version: 1),
            Fixture.sale(line: "2", quantity: 1, version: 1),
        ])
        #expect(ledger.available("ITEM-1", "WH-A") == 0)
        #expect(ledger.available("ITEM-1", "WH-B") == large - 1)
    }

    @Test func channelRuleRestrictsTheCandidates() throws {
        let ledger = try twoWarehouses(rules: [AllocationRule(channel: .shopify, locations: ["WH-B"])])
        // WH-A could cover one unit but the channel may not use it.
        ledger.commitEvent(Fixture.sale(quantity: 1, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == small)
        #expect(ledger.available("ITEM-1", "WH-B") == large - 1)
    }

    @Test func channelRuleRestrictionHoldsEvenWhenNothingCovers() throws {
        let ledger = try twoWarehouses(rules: [AllocationRule(channel: .shopify, locations: ["WH-A"])])
        // WH-B could cover the line but is not eligible: the first eligible location takes it.
        ledger.commitEvent(Fixture.sale(quantity: small + 1, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == -1)
        #expect(ledger.available("ITEM-1", "WH-B") == large)
    }

    @Test func channelRuleOrdersTheCandidates() throws {
        let ledger = try twoWarehouses(rules: [AllocationRule(channel: .shopify, locations: ["WH-B", "WH-A"])])
        ledger.commitEvent(Fixture.sale(quantity: 1, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == small)
        #expect(ledger.available("ITEM-1", "WH-B") == large - 1)
    }

    @Test func ruleLocationsOutsideTheListingAreIgnored() throws {
        // WH-C is not one of the listing's locations.
        let ledger = try twoWarehouses(rules: [AllocationRule(channel: .shopify, locations: ["WH-C", "WH-B"])])
        ledger.commitEvent(Fixture.sale(quantity: 1, version: 1))
        #expect(ledger.available("ITEM-1", "WH-B") == large - 1)
        #expect(ledger.available("ITEM-1", "WH-C") == large)
        #expect(ledger.available("ITEM-1", "WH-A") == small)
    }

    @Test func ruleNamingNoListingLocationFallsBackToTheListing() throws {
        let ledger = try twoWarehouses(rules: [AllocationRule(channel: .shopify, locations: ["WH-C"])])
        ledger.commitEvent(Fixture.sale(quantity: 1, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == small - 1)
        #expect(ledger.available("ITEM-1", "WH-C") == large)
    }

    @Test func otherChannelsRuleDoesNotApply() throws {
        let ledger = try twoWarehouses(rules: [AllocationRule(channel: .amazon, locations: ["WH-B"])])
        ledger.commitEvent(Fixture.sale(quantity: 1, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == small - 1)
    }

    @Test func listingRuleOverridesTheChannelRule() throws {
        let ledger = try twoWarehouses(rules: [
            AllocationRule(channel: .shopify, locations: ["WH-B"]),
            AllocationRule(channel: .shopify, listingID: "L-1", locations: ["WH-A"]),
        ])
        ledger.commitEvent(Fixture.sale(quantity: 1, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == small - 1)
        #expect(ledger.available("ITEM-1", "WH-B") == large)
    }

    @Test func ruleSetInTheSameBatchApplies() throws {
        let ledger = try twoWarehouses()
        try ledger.batch {
            try ledger.setRule(AllocationRule(channel: .shopify, locations: ["WH-B"]))
            _ = ledger.apply(Fixture.sale(quantity: 1, version: 1), now: Fixture.now)
        }
        #expect(ledger.available("ITEM-1", "WH-B") == large - 1)
    }

    @Test func explicitLocationIsHonoured() throws {
        let ledger = try twoWarehouses()
        // WH-A covers one unit, but the channel says it ships from WH-B.
        #expect(ledger.commitEvent(Fixture.sale(quantity: 1, version: 1, location: "WH-B")) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == small)
        #expect(ledger.available("ITEM-1", "WH-B") == large - 1)
    }

    @Test func explicitLocationIsHonouredEvenIfItOversells() throws {
        let ledger = try twoWarehouses()
        ledger.commitEvent(Fixture.sale(quantity: small + 1, version: 1, location: "WH-A"))
        #expect(ledger.available("ITEM-1", "WH-A") == -1)
        #expect(ledger.available("ITEM-1", "WH-B") == large)
    }

    @Test func explicitLocationOutsideTheRuleButInTheListingIsHonoured() throws {
        let ledger = try twoWarehouses(rules: [AllocationRule(channel: .shopify, locations: ["WH-B"])])
        ledger.commitEvent(Fixture.sale(quantity: 1, version: 1, location: "WH-A"))
        #expect(ledger.available("ITEM-1", "WH-A") == small - 1)
    }

    @Test(arguments: ["WH-C", "WH-NEVER-SEEN"])
    func explicitLocationOutsideTheListingIsInvalid(_ location: String) throws {
        let ledger = try twoWarehouses()
        ledger.beginBatch()
        let outcome = ledger.apply(Fixture.sale(quantity: 1, version: 1, location: location), now: Fixture.now)
        #expect(outcome.result == .invalid)
        #expect(outcome.problem?.field == "location_id")
        #expect(ledger.batchIsEmpty)
        ledger.commitBatch()
        #expect(ledger.totals().available == small + large + large)
    }

    @Test func singleLocationListingChecksAnExplicitLocation() throws {
        let ledger = try twoWarehouses(locations: ["WH-A"])
        #expect(ledger.commitEvent(Fixture.sale(quantity: 1, version: 1, location: "WH-B")) == .invalid)
        #expect(ledger.commitEvent(Fixture.sale(quantity: 1, version: 1, location: "WH-A")) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == small - 1)
    }

    @Test func editsStayAtTheLinesLocation() throws {
        let ledger = try twoWarehouses()
        ledger.commitEvent(Fixture.sale(quantity: 1, version: 1))
        #expect(ledger.available("ITEM-1", "WH-A") == small - 1)
        // The edit no longer fits WH-A, and names WH-B: the line still draws on WH-A.
        let edited = large
        #expect(ledger.commitEvent(Fixture.sale(quantity: edited, version: 2, location: "WH-B")) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == small - edited)
        #expect(ledger.available("ITEM-1", "WH-B") == large)
        #expect(ledger.commitEvent(Fixture.sale(quantity: 0, version: 3)) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == small)
    }

    @Test func bundleGoesWhereEveryComponentFits() throws {
        // WH-A has plenty of mugs but too little tea; WH-B has enough of both.
        let mugA: Int64 = 50
        let teaA: Int64 = 2
        let mugB: Int64 = 4
        let teaB: Int64 = 6
        let ledger = try Fixture.ledger(
            onHand: [("MUG", "WH-A", mugA), ("TEA", "WH-A", teaA), ("MUG", "WH-B", mugB), ("TEA", "WH-B", teaB)],
            maps: [Fixture.bundleMap("BOX", components: [("MUG", 2), ("TEA", 3)], locations: ["WH-A", "WH-B"])])
        ledger.commitEvent(Fixture.sale("BOX", quantity: 1, version: 1))
        #expect(ledger.available("MUG", "WH-A") == mugA)
        #expect(ledger.available("TEA", "WH-A") == teaA)
        #expect(ledger.available("MUG", "WH-B") == mugB - 2)
        #expect(ledger.available("TEA", "WH-B") == teaB - 3)
        // WH-B has exactly one more bundle's worth left; the bundle after that fits nowhere and
        // goes to the first location.
        ledger.commitEvent(Fixture.sale("BOX", line: "2", quantity: 1, version: 1))
        #expect(ledger.available("MUG", "WH-B") == 0)
        #expect(ledger.available("TEA", "WH-B") == 0)
        ledger.commitEvent(Fixture.sale("BOX", line: "3", quantity: 1, version: 1))
        #expect(ledger.available("MUG", "WH-A") == mugA - 2)
        #expect(ledger.available("TEA", "WH-A") == teaA - 3)
    }

    @Test func missingRowCountsAsNothingAvailable() throws {
        // No stock row for WH-A at all: a line of one unit goes to WH-B.
        let ledger = try Fixture.ledger(
            onHand: [("ITEM-1", "WH-B", 3)],
            maps: [Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-A", "WH-B"])])
        ledger.commitEvent(Fixture.sale(quantity: 1, version: 1))
        #expect(ledger.available("ITEM-1", "WH-B") == 2)
        #expect(ledger.available("ITEM-1", "WH-A") == nil)
    }
}
