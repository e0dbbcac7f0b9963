import PropertyBased
@testable import StockyardCore
import Testing

/// Channel allocation: `sellable = clamp(floor((Σ eligible available − safety) × pct / 100), 0, max)`,
/// and 0 below the floor.
@Suite struct AllocationRuleTests {
    func rule(
        safety: Int64 = 0, pct: Int64 = 10_000, max: Int64? = nil, floor: Int64 = 0, locations: [String] = []
    ) -> AllocationRule {
        AllocationRule(
            channel: .shopify, safetyStock: safety, percentageHundredths: pct, maximum: max, floor: floor,
            locations: locations)
    }

    // MARK: Arithmetic

    @Test func unrestrictedSellsEverythingAvailable() {
        let rule = AllocationRule.unrestricted(.etsy)
        #expect(rule.channel == .etsy)
        for total: Int64 in [0, 1, 17, Limits.maxStock] {
            #expect(rule.sellable(totalAvailable: total) == total)
        }
    }

    @Test func safetyStockIsHeldBack() {
        let rule = rule(safety: 5)
        #expect(rule.sellable(totalAvailable: 12) == 12 - 5)
        #expect(rule.sellable(totalAvailable: 5) == 0)
        #expect(rule.sellable(totalAvailable: 3) == 0)  // never negative
    }

    @Test func percentageInHundredthsIsFloored() {
        let third = rule(pct: 3_333)  // 33.33 %
        #expect(third.sellable(totalAvailable: 100) == 33)  // 33.33 floored
        #expect(third.sellable(totalAvailable: 3) == 0)  // 0.9999 floored
        #expect(third.sellable(totalAvailable: 4) == 1)  // 1.3332 floored
        #expect(third.sellable(totalAvailable: 10_000) == 3_333)  // exact
        let eighth = rule(pct: 1_250)  // 12.5 %
        #expect(eighth.sellable(totalAvailable: 8) == 1)  // exact
        #expect(eighth.sellable(totalAvailable: 15) == 1)  // 1.875 floored
        #expect(eighth.sellable(totalAvailable: 16) == 2)
        let tiny = rule(pct: 1)  // 0.01 %
        #expect(tiny.sellable(totalAvailable: 9_999) == 0)
        #expect(tiny.sellable(totalAvailable: 10_000) == 1)
        #expect(rule(pct: 0).sellable(totalAvailable: 1_000) == 0)
    }

    @Test func safetyComesOffBeforeThePercentage() {
        // (20 − 4) × 50 % = 8, not 20 × 50 % − 4 = 6.
        #expect(rule(safety: 4, pct: 5_000).sellable(totalAvailable: 20) == 8)
    }

    @Test func maximumClamps() {
        let rule = rule(max: 7)
        #expect(rule.sellable(totalAvailable: 100) == 7)
        #expect(rule.sellable(totalAvailable: 7) == 7)
        #expect(rule.sellable(totalAvailable: 6) == 6)
        #expect(self.rule(max: 0).sellable(totalAvailable: 100) == 0)
        // The clamp applies after safety and percentage: (100 − 10) × 10 % = 9, clamped to 7.
        #expect(self.rule(safety: 10, pct: 1_000, max: 7).sellable(totalAvailable: 100) == 7)
    }

    @Test func belowTheFloorIsZero() {
        let rule = rule(floor: 5)
        #expect(rule.sellable(totalAvailable: 4) == 0)
        #expect(rule.sellable(totalAvailable: 5) == 5)
        #expect(rule.sellable(totalAvailable: 6) == 6)
        // The floor is compared with the figure after safety and percentage: (14 − 2) × 50 % = 6.
        #expect(self.rule(safety: 2, pct: 5_000, floor: 6).sellable(totalAvailable: 14) == 6)
        #expect(self.rule(safety: 2, pct: 5_000, floor: 7).sellable(totalAvailable: 14) == 0)
    }

    @Test func negativeOrZeroTotalsSellNothing() {
        for total: Int64 in [0, -1, -50, -Limits.maxStock] {
            #expect(rule().sellable(totalAvailable: total) == 0)
            #expect(rule(pct: 5_000, floor: 0).sellable(totalAvailable: total) == 0)
        }
    }

    @Test func largestTotalsStayExact() {
        // The most a listing can draw on: every one of its locations at the stock limit.
        let total = Limits.maxStock * Int64(ListingMap.maxLocations)
        let rule = rule(pct: 9_999)
        #expect(rule.sellable(totalAvailable: total) == total / 10_000 * 9_999)
        #expect(self.rule(safety: Limits.maxStock).sellable(totalAvailable: total) == total - Limits.maxStock)
        // Beyond that the product saturates instead of trapping.
        let full = self.rule(pct: 10_000)
        #expect(full.sellable(totalAvailable: .max) >= full.sellable(totalAvailable: total))
    }

    @Test func sellableStaysWithinItsBounds() async {
        await propertyCheck(
            count: 300,
            input: Gen.int64(in: -1_000...1_000_000),
            Gen.int64(in: 0...1_000),
            Gen.int64(in: 0...10_000),
            Gen.int64(in: 0...2_000).map { $0 > 1_500 ? nil : $0 },
            Gen.int64(in: 0...50)
        ) { total, safety, pct, maximum, floor in
            let rule = AllocationRule(
                channel: .amazon, safetyStock: safety, percentageHundredths: pct, maximum: maximum, floor: floor)
            let value = rule.sellable(totalAvailable: total)
            #expect(value >= 0)
            #expect(value <= max(total - safety, 0))
            if let maximum { #expect(value <= maximum) }
            #expect(value == 0 || value >= floor)
            // The unclamped share: value × 10000 ≤ (total − safety) × pct < (value + 1) × 10000.
            if value > 0, maximum.map({ value < $0 }) ?? true {
                #expect(value * 10_000 <= (total - safety) * pct)
                #expect((total - safety) * pct < (value + 1) * 10_000)
            }
            // More stock never sells less.
            #expect(rule.sellable(totalAvailable: total + 1) >= value)
        }
    }

    @Test func validation() {
        #expect(rule().validate() == nil)
        #expect(rule(safety: -1).validate()?.field == "safety_stock")
        #expect(rule(pct: -1).validate()?.field == "percentage")
        #expect(rule(pct: 10_001).validate()?.field == "percentage")
        #expect(rule(max: -1).validate()?.field == "max")
        #expect(rule(floor: -1).validate()?.field == "floor")
        #expect(rule(locations: ["WH-A", "WH-A"]).validate()?.field == "locations")
        #expect(rule(locations: [""]).validate()?.field == "locations")
        let badListing = AllocationRule(channel: .shopify, listingID: "L\n1")
        #expect(badListing.validate()?.field == "listing_id")
    }

    @Test func invalidRuleIsRejectedWithoutChange() throws {
        let ledger = try Fixture.ledger()
        ledger.beginBatch()
        #expect(throws: ValidationProblem.self) { try ledger.setRule(rule(pct: 20_000)) }
        #expect(ledger.batchIsEmpty)
        ledger.commitBatch()
        #expect(ledger.allocationRules().isEmpty)
    }

    // MARK: Through the ledger

    let a: Int64 = 10
    let b: Int64 = 5
    let key = ListingKey(channel: .shopify, listingID: "L-1")

    func ledger(_ rules: [AllocationRule]) throws -> Ledger {
        try Fixture.ledger(
            onHand: [("ITEM-1", "WH-A", a), ("ITEM-1", "WH-B", b), ("ITEM-1", "WH-C", 100)],
            maps: [
                Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-A", "WH-B"]),
                Fixture.itemMap("L-2", item: "ITEM-1", locations: ["WH-A", "WH-B"]),
            ],
            rules: rules)
    }

    @Test func noRuleSellsTheListingsLocations() throws {
        let ledger = try ledger([])
        // WH-C is not one of the listing's locations.
        #expect(ledger.sellable(key) == a + b)
    }

    @Test func channelRuleAppliesToTheEligibleTotal() throws {
        let ledger = try ledger([rule(safety: 3, pct: 5_000)])
        #expect(ledger.sellable(key) == (a + b - 3) * 5_000 / 10_000)
    }

    @Test func ruleLocationsNarrowTheTotal() throws {
        let ledger = try ledger([rule(safety: 1, locations: ["WH-B"])])
        #expect(ledger.sellable(key) == b - 1)
    }

    @Test func listingRuleOverridesTheChannelRule() throws {
        let ledger = try ledger([
            rule(pct: 1_000),
            AllocationRule(channel: .shopify, listingID: "L-1", maximum: 4),
        ])
        #expect(ledger.sellable(key) == min(a + b, 4))
        // The other listing keeps the channel rule.
        #expect(ledger.sellable(ListingKey(channel: .shopify, listingID: "L-2")) == (a + b) * 1_000 / 10_000)
    }

    @Test func otherChannelsRuleDoesNotApply() throws {
        let ledger = try ledger([AllocationRule(channel: .amazon, percentageHundredths: 0)])
        #expect(ledger.sellable(key) == a + b)
    }

    @Test func unmappedListingHasNoSellableFigure() throws {
        let ledger = try ledger([])
        #expect(ledger.sellable(ListingKey(channel: .shopify, listingID: "NOPE")) == nil)
        #expect(ledger.sellable(ListingKey(channel: .amazon, listingID: "L-1")) == nil)
    }

    @Test func oversoldLocationReducesTheTotal() throws {
        let ledger = try ledger([])
        ledger.commitEvent(Fixture.sale(quantity: a + 3, version: 1, location: "WH-A"))
        // WH-A at −3 counts against WH-B's stock.
        #expect(ledger.available("ITEM-1", "WH-A") == -3)
        #expect(ledger.sellable(key) == b - 3)
        ledger.commitEvent(Fixture.sale(line: "2", quantity: b, version: 1, location: "WH-B"))
        #expect(ledger.sellable(key) == 0)
    }

    @Test func floorThroughTheLedger() throws {
        let ledger = try ledger([rule(floor: a + b + 1)])
        #expect(ledger.sellable(key) == 0)
        ledger.commitEvent(Fixture.sale(quantity: 0, version: 1))
        #expect(ledger.sellable(key) == 0)
        try ledger.batch { try ledger.setRule(rule(floor: a + b)) }
        #expect(ledger.sellable(key) == a + b)
    }

    @Test func itemStockShowsEachChannelsSellable() throws {
        let ledger = try ledger([
            AllocationRule(channel: .amazon, safetyStock: 5),
            AllocationRule(channel: .ebay, percentageHundredths: 5_000, locations: ["WH-A"]),
            AllocationRule(channel: .etsy, maximum: 3),
            // A listing rule does not change the item's channel figure.
            AllocationRule(channel: .shopify, listingID: "L-1", maximum: 1),
        ])
        let stock = try #require(ledger.stock(itemID: "ITEM-1"))
        let total = a + b + 100
        #expect(stock.itemID == "ITEM-1")
        #expect(stock.locations.map(\.locationID) == ["WH-A", "WH-B", "WH-C"])
        #expect(stock.locations.map(\.figures.available) == [a, b, 100])
        #expect(stock.sellable[.shopify] == total)
        #expect(stock.sellable[.amazon] == total - 5)
        #expect(stock.sellable[.ebay] == a / 2)
        #expect(stock.sellable[.etsy] == 3)
        #expect(ledger.stock(itemID: "NO-SUCH-ITEM") == nil)
    }

    @Test func committedRulesAreListed() throws {
        let channel = rule(safety: 2)
        let listing = AllocationRule(channel: .shopify, listingID: "L-1", maximum: 4)
        let amazon = AllocationRule(channel: .amazon, percentageHundredths: 5_000)
        let ledger = try ledger([listing, amazon, channel])
        #expect(ledger.allocationRules() == [channel, listing, amazon])
        #expect(ledger.rule(AllocationRuleKey(channel: .shopify, listingID: "L-1")) == listing)
        #expect(ledger.rule(AllocationRuleKey(channel: .shopify)) == channel)
        #expect(ledger.rule(AllocationRuleKey(channel: .ebay)) == nil)
    }
}
