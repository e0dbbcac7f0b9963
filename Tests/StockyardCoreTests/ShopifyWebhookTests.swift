import Foundation
import StockyardChannels
@testable import StockyardCore
import Testing

/// Shopify order and refund payloads, read from the vendor's sample body.
@Suite struct ShopifyWebhookTests {
    static let orderID = "820982911946154508"
    /// `2021-12-31T19:00:00-05:00` in microseconds.
    static let version: Int64 = 1_640_995_200_000_000

    func read(_ topic: String, _ text: String, namespace: String? = nil, triggeredAt: String? = nil) throws -> ChannelDelivery {
        try Array(text.utf8).withUnsafeBytes { body in
            try ShopifyWebhook.read(topic: topic, body: body, triggeredAt: triggeredAt, webhookID: "wh-1", namespace: namespace)
        }
    }

    @Test func sampleOrderBecomesOneLinePerLineItem() throws {
        let delivery = try read("orders/create", FixtureFiles.shopifyOrder)
        #expect(delivery.kind == .orders)
        #expect(delivery.deliveryID == "wh-1")
        let events = delivery.lines.map(\.event)
        // Ids above 2^53 survive digit for digit.
        #expect(events.map(\.orderID) == Array(repeating: Self.orderID, count: 5))
        #expect(events.map(\.lineID) == [
            "487817672276298554", "789012345678901234", "890123456789012345", "976318377106520349", "315789986012684393",
        ])
        // No variant ids in the sample: product id where there is one, else the SKU.
        #expect(events.map(\.listingID) == [
            "product:788032119674292922", "sku:LENS-PROTECT-2YR", "sku:CASE-LEATHER-PREM",
            "product:788032119674292922", "product:788032119674292922",
        ])
        #expect(events.allSatisfy { $0.quantity == 1 && $0.version == Self.version && $0.channel == .shopify })
        // Only SKU-keyed (or variant-keyed) lines may map themselves by SKU.
        #expect(delivery.lines.map(\.sku) == [nil, "LENS-PROTECT-2YR", "CASE-LEATHER-PREM", nil, nil])
        #expect(delivery.skipped.isEmpty)
    }

    @Test func variantIDWinsAndNamespacePrefixes() throws {
        let text = FixtureFiles.shopifyOrder.replacingFirst("\"variant_id\": null", with: "\"variant_id\": 9007199254740993")
        let delivery = try read("orders/updated", text, namespace: "eu")
        #expect(delivery.lines[0].event.listingID == "eu:9007199254740993")
        #expect(delivery.lines[0].sku == "SKU2006-001")
        #expect(delivery.lines[1].event.listingID == "eu:sku:LENS-PROTECT-2YR")
        #expect(delivery.lines[0].event.orderID == "eu:\(Self.orderID)")
    }

    @Test func cancellationAloneMovesNothingButRestockingRefundsRelease() throws {
        // The sample is a cancelled order with no refunds: every line still holds its unit.
        let cancelled = try read("orders/cancelled", FixtureFiles.shopifyOrder)
        #expect(cancelled.lines.map(\.event.quantity) == [1, 1, 1, 1, 1])

        // Cancelled with restock: Shopify adds a refund whose lines restock with type "cancel".
        let refunds = """
            "refunds": [{"id": 100, "created_at": "2022-01-01T10:00:00Z", "refund_line_items": [
              {"id": 501, "line_item_id": 789012345678901234, "quantity": 1, "restock_type": "cancel",
               "line_item": {"id": 789012345678901234, "variant_id": null, "product_id": null, "sku": "LENS-PROTECT-2YR", "quantity": 1}},
              {"id": 502, "line_item_id": 890123456789012345, "quantity": 1, "restock_type": "no_restock",
               "line_item": {"id": 890123456789012345, "sku": "CASE-LEATHER-PREM", "quantity": 1}},
              {"id": 503, "line_item_id": 487817672276298554, "quantity": 1, "restock_type": "return"}
            ]}],
            """
        var text = FixtureFiles.shopifyOrder.replacingFirst("\"refunds\": [],", with: refunds)
        // After the refunds, current_quantity no longer counts the refunded units.
        for id in ["487817672276298554", "789012345678901234", "890123456789012345"] {
            let marker = "\"id\": \(id),"
            let start = text.range(of: marker)!.upperBound
            let range = text.range(of: "\"current_quantity\": 1", range: start..<text.endIndex)!
            text.replaceSubrange(range, with: "\"current_quantity\": 0")
        }
        let delivery = try read("orders/cancelled", text)
        let byLine = Dictionary(uniqueKeysWithValues: delivery.lines.map { ($0.event.lineID, $0.event) })
        // Sale lines still hold what was ordered; refund lines give units back.
        #expect(byLine["789012345678901234"]?.quantity == 1)
        #expect(byLine["789012345678901234:restock:501"]?.quantity == -1)
        #expect(byLine["789012345678901234:restock:501"]?.listingID == "sku:LENS-PROTECT-2YR")
        #expect(byLine["487817672276298554:restock:503"]?.listingID == "product:788032119674292922")
        #expect(byLine["487817672276298554:restock:503"]?.version == 1_641_031_200_000_000)
        #expect(byLine["890123456789012345:restock:502"] == nil)
        #expect(delivery.skipped.map(\.lineID) == ["890123456789012345:restock:502"])

        // Through the ledger: units come back for cancel and return, not for no_restock.
        let ledger = try Fixture.ledger(
            onHand: [("LENS", "WH", 5), ("CASE", "WH", 5), ("CHAIR", "WH", 5)],
            maps: [
                Fixture.itemMap("sku:LENS-PROTECT-2YR", item: "LENS", locations: ["WH"]),
                Fixture.itemMap("sku:CASE-LEATHER-PREM", item: "CASE", locations: ["WH"]),
                Fixture.itemMap("product:788032119674292922", item: "CHAIR", locations: ["WH"]),
            ])
        ledger.beginBatch()
        for line in try read("orders/create", FixtureFiles.shopifyOrder).lines {
            #expect(ledger.apply(validated: line.event, now: Fixture.now).result == .applied)
        }
        for line in delivery.lines { _ = ledger.apply(validated: line.event, now: Fixture.now) }
        // Delivered again: nothing moves twice.
        for line in delivery.lines where line.event.quantity < 0 {
            #expect(ledger.apply(validated: line.event, now: Fixture.now).result == .duplicate)
        }
        ledger.commitBatch()
        let available = ["LENS", "CASE", "CHAIR"].map { ledger.figures(itemID: $0, locationID: "WH")?.available }
        // Lens: sold and restocked; case: sold, refunded without restock; chair: 3 sold, 1 returned.
        #expect(available == [5, 4, 3])
    }

    @Test func standaloneRefundAndEditsRead() throws {
        let refund = """
            {"id": 929361462, "order_id": 450789469, "created_at": "2026-11-20T12:00:00-05:00", "restock": true,
             "refund_line_items": [{"id": 104689539, "quantity": 2, "line_item_id": 703073504, "restock_type": "return",
               "line_item": {"id": 703073504, "variant_id": 457924702, "sku": "IPOD2008BLACK", "quantity": 3}}]}
            """
        let refunded = try read("refunds/create", refund)
        #expect(refunded.lines.map(\.event) == [
            SaleEvent(
                channel: .shopify, listingID: "457924702", orderID: "450789469", lineID: "703073504:restock:104689539",
                quantity: -2, version: 1_795_194_000_000_000),
        ])

        let edit = """
            {"order_edit": {"id": 78912328, "order_id": 450789469, "created_at": "2026-11-20T11:00:00-05:00",
              "committed_at": "2026-11-20T11:00:05-05:00",
              "line_items": {"additions": [{"id": 466157049, "delta": 2}], "removals": [{"id": 703073504, "delta": 1}]}}}
            """
        let edited = try read("orders/edited", edit)
        #expect(edited.adjustments == [
            LineAdjustment(channel: .shopify, orderID: "450789469", lineID: "466157049", delta: 2, version: 1_795_190_405_000_000),
            LineAdjustment(channel: .shopify, orderID: "450789469", lineID: "703073504", delta: -1, version: 1_795_190_405_000_000),
        ])
    }

    @Test func editsAdjustKnownLinesOnce() throws {
        let ledger = try Fixture.ledger(onHand: [("ITEM-1", "WH-A", 10)], maps: [Fixture.itemMap()])
        ledger.beginBatch()
        _ = ledger.apply(validated: Fixture.sale(quantity: 3, version: 100), now: Fixture.now)
        let removal = LineAdjustment(channel: .shopify, orderID: "O-1", lineID: "1", delta: -2, version: 200)
        #expect(ledger.adjust(removal, now: Fixture.now)?.outcome.result == .applied)
        // The same edit again is already in the line.
        #expect(ledger.adjust(removal, now: Fixture.now)?.outcome.result == .duplicate)
        // An older edit arriving late is ignored; an addition later on applies.
        #expect(ledger.adjust(LineAdjustment(channel: .shopify, orderID: "O-1", lineID: "1", delta: -1, version: 150), now: Fixture.now)?.outcome.result == .stale)
        #expect(ledger.adjust(LineAdjustment(channel: .shopify, orderID: "O-1", lineID: "1", delta: 4, version: 300), now: Fixture.now)?.event.quantity == 5)
        // A line not seen yet is left to the order's next full update.
        #expect(ledger.adjust(LineAdjustment(channel: .shopify, orderID: "O-1", lineID: "9", delta: -1, version: 300), now: Fixture.now) == nil)
        ledger.commitBatch()
        #expect(ledger.figures(itemID: "ITEM-1", locationID: "WH-A")?.available == 5)
    }

    @Test func updatedBeforeCreateLeavesTheLaterState() throws {
        let updated = FixtureFiles.shopifyOrder
            .replacingFirst("\"updated_at\": \"2021-12-31T19:00:00-05:00\"", with: "\"updated_at\": \"2022-01-02T09:00:00Z\"")
            .replacingFirst("\"current_quantity\": 1", with: "\"current_quantity\": 0")
        let ledger = try Fixture.ledger(
            onHand: [("CHAIR", "WH", 9)], maps: [Fixture.itemMap("product:788032119674292922", item: "CHAIR", locations: ["WH"])])
        ledger.beginBatch()
        let late = try read("orders/updated", updated).lines.filter { $0.event.listingID.hasPrefix("product:") }
        let early = try read("orders/create", FixtureFiles.shopifyOrder).lines.filter { $0.event.listingID.hasPrefix("product:") }
        #expect(late.map { ledger.apply(validated: $0.event, now: Fixture.now).result } == [.applied, .applied, .applied])
        #expect(early.map { ledger.apply(validated: $0.event, now: Fixture.now).result } == [.stale, .stale, .stale])
        ledger.commitBatch()
        let chair = ledger.figures(itemID: "CHAIR", locationID: "WH")?.available
        #expect(chair == 7)
    }

    @Test func unreadableBodiesNameTheField() throws {
        let cases: [(String, String, PayloadError.Code, String?)] = [
            ("truncated", String(FixtureFiles.shopifyOrder.prefix(5000)), .invalidJSON, nil),
            ("quantity as text", FixtureFiles.shopifyOrder.replacingFirst("\"quantity\": 1,", with: "\"quantity\": \"one\","), .invalidField, "line_items[0].quantity"),
            ("fractional quantity", FixtureFiles.shopifyOrder.replacingFirst("\"quantity\": 1,", with: "\"quantity\": 1.5,"), .invalidField, "line_items[0].quantity"),
            ("negative quantity", FixtureFiles.shopifyOrder.replacingFirst("\"quantity\": 1,", with: "\"quantity\": -1,"), .invalidField, "line_items[0].quantity"),
            ("no order id", FixtureFiles.shopifyOrder.replacingFirst("\"id\": 820982911946154508,", with: ""), .invalidField, "id"),
            ("id as object", FixtureFiles.shopifyOrder.replacingFirst("\"id\": 820982911946154508,", with: "\"id\": {},"), .invalidField, "id"),
            ("not an object", "[1, 2]", .invalidField, nil),
            ("trailing bytes", FixtureFiles.shopifyOrder + "}", .invalidJSON, nil),
        ]
        for (name, text, code, field) in cases {
            do {
                _ = try read("orders/create", text)
                Issue.record("\(name): read without an error")
            } catch let error as PayloadError {
                #expect(error.code == code, "\(name): \(error)")
                if let field { #expect(error.field == field, "\(name): \(error)") }
            }
        }
        // No updated_at: the header's time stands in; without either the body is refused.
        let undated = FixtureFiles.shopifyOrder.replacingFirst("\"updated_at\": \"2021-12-31T19:00:00-05:00\",", with: "")
        #expect(try read("orders/create", undated, triggeredAt: "2025-07-10T16:15:47.000000Z").lines[0].event.version == 1_752_164_147_000_000)
        #expect(throws: PayloadError.self) { try read("orders/create", undated) }
    }

    @Test func skippedFieldsAreCheckedAndNamed() throws {
        // Fields Stockyard does not read are skipped, yet still checked: an error inside one
        // names where it is, whatever the value's shape.
        let cases: [(String, String, String?)] = [
            ("trailing comma", "\"customer\": {\"tags\": [1, 2,]}, \"id\": 1}", "customer.tags[2]"),
            ("bad literal", "\"customer\": {\"verified\": tru}, \"id\": 1}", "customer.verified"),
            ("escaped field names in the path", "\"cu\\u0073tomer\": {\"ver\\\"ified\": tru}, \"id\": 1}", "customer.ver\"ified"),
            ("control character", "\"note\": \"a\u{01}b\", \"id\": 1}", "note"),
            ("unclosed string", "\"note\": \"abc", "note"),
            ("bad escape in a key", "\"customer\": {\"a\\qb\": 1}, \"id\": 1}", "customer"),
            ("missing colon", "\"customer\": {\"a\" 1}, \"id\": 1}", "customer"),
            ("no number", "\"total\": -, \"id\": 1}", "total"),
        ]
        for (name, rest, field) in cases {
            do {
                _ = try read("orders/create", "{" + rest)
                Issue.record("\(name): read without an error")
            } catch let error as PayloadError {
                #expect(error.code == .invalidJSON, "\(name): \(error)")
                #expect(error.field == field, "\(name): \(error)")
            }
        }
        // Escaped keys, escaped quotes, nesting and white space in skipped values are read past.
        let skipped = "\"a\\\"b\": {\"c\\u0041\": [ {\"d\": \"x\\\\\"}, [], {}, null, true, false, -1.5e+3 ] }, \"e\": [ {\"d\": \"x\\\"y\\\\\"}, [ ], { }, null, true, false, -1.5e+3, \"\\u00e9\" ],"
        let delivery = try read("orders/create", FixtureFiles.shopifyOrder.replacingFirst("{", with: "{" + skipped))
        #expect(delivery.lines.count == (try read("orders/create", FixtureFiles.shopifyOrder)).lines.count)
    }

    @Test func deepNestingIsRefusedNotFollowed() throws {
        // A skipped value nested far deeper than any order is refused with an error, at any
        // depth past the limit, without a stack that grows with it.
        for depth in [JSONScanner.maxDepth + 1, 100_000] {
            let deep = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            do {
                _ = try read("orders/create", "{\"note_attributes\": \(deep), \"id\": 1}")
                Issue.record("depth \(depth): read without an error")
            } catch let error as PayloadError {
                #expect(error.code == .invalidJSON, "depth \(depth): \(error)")
            }
        }
        // Nesting up to the limit is read past.
        let depth = JSONScanner.maxDepth - 2
        let nested = String(repeating: "{\"a\": [", count: depth / 2) + String(repeating: "]}", count: depth / 2)
        let delivery = try read("orders/create", FixtureFiles.shopifyOrder.replacingFirst("{", with: "{\"note_attributes\": \(nested), "))
        #expect(delivery.lines.count == (try read("orders/create", FixtureFiles.shopifyOrder)).lines.count)
    }

    @Test func longSkippedStringsAreReadPastWordByWord() throws {
        // Skipped strings and white space are passed eight bytes at a time: a quote, a backslash
        // or a control character must be caught at whatever offset in a word it falls.
        let expected = try read("orders/create", FixtureFiles.shopifyOrder).lines.count
        for offset in 0..<17 {
            let pad = String(repeating: "p", count: offset)
            let long = String(repeating: "é-long text ", count: 3)
            let spaces = String(repeating: " ", count: offset) + "\t" + String(repeating: " ", count: 9)
            let valid = "\"k\(pad)\\\"ey\(long)\":\(spaces)\"\(long)\(pad)\\\"quoted\\\\\(long)\",\(spaces)"
            let delivery = try read("orders/create", FixtureFiles.shopifyOrder.replacingFirst("{", with: "{" + valid))
            #expect(delivery.lines.count == expected, "offset \(offset)")

            // White space is found a word at a time too: a stray byte inside a run of it is refused.
            for stray in ["\u{01}", "\u{0B}", "x"] {
                let run = "\n" + String(repeating: " ", count: offset) + stray + String(repeating: " ", count: 9)
                #expect(throws: PayloadError.self, "offset \(offset), \(stray.unicodeScalars.first!.value)") {
                    try read("orders/create", "{\"id\": 1,\(run)\"note\": 1}")
                }
            }
            // A control character inside a field name is refused, read or skipped.
            for name in ["note", "id"] {
                let key = "\"\(pad)\(name)\u{01}\(name)\""
                #expect(throws: PayloadError.self, "offset \(offset), key \(name)") {
                    try read("orders/create", "{\"customer\": {\(key): 1}, \"id\": 1}")
                }
                #expect(throws: PayloadError.self, "offset \(offset), key \(name)") {
                    try read("orders/create", "{\(key): 1, \"id\": 1}")
                }
            }

            let control = "\"note\": \"\(long)\(pad)\u{01}\(long)\", \"id\": 1}"
            do {
                _ = try read("orders/create", "{" + control)
                Issue.record("offset \(offset): a control character was read past")
            } catch let error as PayloadError {
                #expect(error.field == "note", "offset \(offset): \(error)")
            }
        }
    }

    @Test func unknownTopicsAreIgnored() throws {
        let delivery = try read("products/update", "{\"id\": 1}")
        #expect(delivery.kind == .ignored)
        #expect(delivery.lines.isEmpty)
    }
}
