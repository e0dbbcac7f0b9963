@testable import StockyardCore
import Testing

/// Bounds on ids, stock figures and listing maps: bad input is rejected with a field and a
/// reason, and changes nothing.
@Suite struct InputValidationTests {
    @Test func idRules() {
        #expect(Limits.validateID("SKU-1/ä", field: "f") == nil)
        #expect(Limits.validateID(String(repeating: "x", count: Limits.maxIDLength), field: "f") == nil)
        #expect(Limits.validateID(String(repeating: "x", count: Limits.maxIDLength + 1), field: "f")?.field == "f")
        #expect(Limits.validateID("", field: "f")?.field == "f")
        for control in ["\u{0}", "\t", "\n", "\r", "\u{1B}", "\u{1F}", "\u{7F}"] {
            #expect(Limits.validateID("a\(control)b", field: "item_id")?.field == "item_id")
        }
        // Printable characters just around the control ranges are fine.
        #expect(Limits.validateID(" ~", field: "f") == nil)
    }

    @Test func onHandWithinTheStockLimitIsAccepted() throws {
        let ledger = Ledger()
        try ledger.batch {
            try ledger.setOnHand(itemID: "A", locationID: "WH-A", quantity: Limits.maxStock)
            try ledger.setOnHand(itemID: "B", locationID: "WH-A", quantity: -Limits.maxStock)
        }
        #expect(ledger.available("A", "WH-A") == Limits.maxStock)
        #expect(ledger.available("B", "WH-A") == -Limits.maxStock)
        #expect(ledger.totals().available == 0)
    }

    @Test(arguments: [Limits.maxStock + 1, -Limits.maxStock - 1, .max])
    func onHandBeyondTheStockLimitIsRejected(_ quantity: Int64) throws {
        let ledger = Ledger()
        ledger.beginBatch()
        #expect(throws: ValidationProblem(field: "zoho_on_hand", message: "zoho_on_hand must be within ±\(Limits.maxStock)")) {
            try ledger.setOnHand(itemID: "A", locationID: "WH-A", quantity: quantity)
        }
        #expect(ledger.batchIsEmpty)
        ledger.commitBatch()
        #expect(ledger.figures(itemID: "A", locationID: "WH-A") == nil)
    }

    /// The most negative figure must be rejected like any other out-of-range figure, not trap.
    @Test func mostNegativeOnHandIsRejected() async {
        await #expect(processExitsWith: .success) {
            let ledger = Ledger()
            ledger.beginBatch()
            var rejected = false
            do {
                try ledger.setOnHand(itemID: "A", locationID: "WH-A", quantity: Int64.min)
            } catch {
                rejected = (error as? ValidationProblem)?.field == "zoho_on_hand"
            }
            if !rejected { fatalError("Int64.min was accepted as zoho_on_hand") }
        }
    }

    @Test(arguments: [("", "WH-A", "item_id"), ("A", "", "location_id"), ("A\n", "WH-A", "item_id"), ("A", "WH\u{7F}", "location_id")])
    func onHandWithBadIDsIsRejected(_ item: String, _ location: String, _ field: String) throws {
        let ledger = Ledger()
        ledger.beginBatch()
        do {
            try ledger.setOnHand(itemID: item, locationID: location, quantity: 1)
            Issue.record("accepted \(item.debugDescription) @ \(location.debugDescription)")
        } catch {
            #expect(error.field == field)
        }
        #expect(ledger.batchIsEmpty)
        ledger.commitBatch()
    }

    @Test func listingMapValidation() {
        #expect(Fixture.itemMap().validate() == nil)
        #expect(Fixture.itemMap("").validate()?.field == "listing_id")
        #expect(Fixture.itemMap(item: "").validate()?.field == "item_id")
        #expect(Fixture.itemMap(item: "I\u{1}").validate()?.field == "item_id")
        #expect(Fixture.itemMap(locations: []).validate()?.field == "locations")
        #expect(Fixture.itemMap(locations: ["WH-A", "WH-A"]).validate()?.field == "locations")
        #expect(Fixture.itemMap(locations: ["WH\nA"]).validate()?.field == "locations")
        let most = (0..<ListingMap.maxLocations).map { "WH-\($0)" }
        #expect(Fixture.itemMap(locations: most).validate() == nil)
        #expect(Fixture.itemMap(locations: most + ["WH-X"]).validate()?.field == "locations")
        let components = (0...ListingMap.maxComponents).map { ("I-\($0)", Int64(1)) }
        #expect(Fixture.bundleMap("B", components: Array(components.dropLast()), locations: ["WH-A"]).validate() == nil)
        #expect(Fixture.bundleMap("B", components: components, locations: ["WH-A"]).validate()?.field == "components")
    }

    @Test func mapsOfOneListingIDOnTwoChannelsAreSeparate() throws {
        let shopify = Fixture.itemMap("X", item: "ITEM-1", channel: .shopify)
        let amazon = Fixture.itemMap("X", item: "ITEM-2", channel: .amazon)
        let ledger = try Fixture.ledger(maps: [shopify, amazon])
        #expect(ledger.listingMap(shopify.key) == shopify)
        #expect(ledger.listingMap(amazon.key) == amazon)
        #expect(ledger.listingMap(ListingKey(channel: .ebay, listingID: "X")) == nil)
    }

    @Test func channelNames() {
        for channel in Channel.allCases {
            #expect(Channel(name: channel.name) == channel)
        }
        #expect(Channel(name: "Shopify") == nil)
        #expect(Channel.allCases.map(\.name) == ["shopify", "amazon", "ebay", "etsy"])
        #expect(EventResult.allCases.map(\.name) == ["applied", "duplicate", "stale", "conflict", "unmapped", "invalid"])
    }
}
