import StockyardChannels
import Testing

/// Reading Zoho's correction bodies: absolute stock, adjustments, echoes, and bad input.
@Suite struct ZohoCorrectionTests {
    private func read(_ text: String) throws -> ZohoCorrection {
        try Array(text.utf8).withUnsafeBytes { body in try ZohoCorrection.read(body: body, ownPrefix: "SY-") }
    }

    @Test func itemStockPerLocation() throws {
        let correction = try read(
            #"{"item":{"item_id":"4815000000044208","sku":"BAG-S","locations":[{"location_id":"460000000038080","location_stock_on_hand":"12"},{"location_id":460000000038099,"location_stock_on_hand":3}]}}"#)
        guard case .absolute(let item, let locations, _) = correction else { Issue.record("\(correction)"); return }
        #expect(item == "4815000000044208")
        #expect(locations.map(\.locationID) == ["460000000038080", "460000000038099"])
        #expect(locations.map(\.onHand) == [12, 3])
    }

    @Test func olderOrganizationsNameWarehouses() throws {
        let correction = try read(#"{"item_id":9007199254740993,"warehouses":[{"warehouse_id":"W1","warehouse_stock_on_hand":"-4"}]}"#)
        guard case .absolute(let item, let locations, _) = correction else { Issue.record("\(correction)"); return }
        // Above 2^53: kept exactly, never through a Double.
        #expect(item == "9007199254740993")
        #expect(locations.first?.locationID == "W1")
        #expect(locations.first?.onHand == -4)
    }

    @Test func adjustmentMadeInZoho() throws {
        let correction = try read(
            #"{"inventory_adjustment":{"inventory_adjustment_id":"4815000000044100","reference_number":"REF-IA-00001","adjustment_type":"quantity","location_id":"L9","line_items":[{"item_id":"A","location_id":"L1","quantity_adjusted":10},{"item_id":"B","quantity_adjusted":-2.0}]}}"#)
        guard case .delta(let id, let reference, let lines) = correction else { Issue.record("\(correction)"); return }
        #expect(id == "4815000000044100")
        #expect(reference == "REF-IA-00001")
        #expect(lines.map(\.itemID) == ["A", "B"])
        #expect(lines.map(\.locationID) == ["L1", "L9"])
        #expect(lines.map(\.quantity) == [10, -2])
    }

    @Test func ourOwnAdjustmentIsAnEcho() throws {
        let correction = try read(
            #"{"inventory_adjustment":{"inventory_adjustment_id":"77","reference_number":"SY-mwti5uoz-88bs","line_items":[{"item_id":"A","location_id":"L1","quantity_adjusted":-3}]}}"#)
        guard case .echo(let id, let reference) = correction else { Issue.record("\(correction)"); return }
        #expect(id == "77")
        #expect(reference == "SY-mwti5uoz-88bs")
    }

    @Test(arguments: [
        (#"{"item":{"item_id":"A","locations":[{"location_id":"L1","location_stock_on_hand":"1.5"}]}}"#, "item.locations[0].location_stock_on_hand"),
        (#"{"item":{"item_id":"A","locations":[{"location_stock_on_hand":"1"}]}}"#, "item.locations[0].location_id"),
        (#"{"item":{"item_id":"A","locations":[]}}"#, "item.locations"),
        (#"{"item":{"item_id":true,"locations":[{"location_id":"L1","location_stock_on_hand":1}]}}"#, "item.item_id"),
        (#"{"inventory_adjustment":{"inventory_adjustment_id":"1","line_items":[{"item_id":"A","quantity_adjusted":1}]}}"#, "inventory_adjustment.line_items[0].location_id"),
        (#"{"inventory_adjustment":{"inventory_adjustment_id":"1","line_items":[{"item_id":"A","location_id":"L","quantity_adjusted":"x"}]}}"#, "inventory_adjustment.line_items[0].quantity_adjusted"),
        (#"{"inventory_adjustment":{"inventory_adjustment_id":"1","adjustment_type":"value","line_items":[]}}"#, "inventory_adjustment.adjustment_type"),
        (#"{"inventory_adjustment":{"line_items":[]}}"#, "inventory_adjustment.inventory_adjustment_id"),
        (#"{"something":"else"}"#, "item"),
    ])
    func badBodiesNameTheField(_ body: String, _ field: String) {
        #expect { try read(body) } throws: { ($0 as? PayloadError)?.field == field }
    }

    @Test func notJSON() {
        #expect { try read(#"{"item":"#) } throws: { ($0 as? PayloadError)?.code == .invalidJSON }
        #expect { try read("[1,2]") } throws: { ($0 as? PayloadError)?.code == .invalidJSON }
    }
}
