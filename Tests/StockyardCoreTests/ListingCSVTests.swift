import StockyardChannels
import StockyardCore
import Testing

@Suite struct ListingCSVTests {
    func read(_ text: String) throws -> [ListingMap] {
        try Array(text.utf8).withUnsafeBytes { try ListingCSV.read($0, maxRows: 10) }
    }

    @Test func readsRowsWithHeaderQuotesAndLocationLists() throws {
        let maps = try read("\u{FEFF}channel,listing_id,item_id,locations\r\nshopify,123,ITEM-1,WH-A;WH-B\r\n\namazon,\"SKU, large\",ITEM-2,\"WH-A,WH-C\"\n")
        #expect(maps == [
            ListingMap(channel: .shopify, listingID: "123", target: .item("ITEM-1"), locations: ["WH-A", "WH-B"]),
            ListingMap(channel: .amazon, listingID: "SKU, large", target: .item("ITEM-2"), locations: ["WH-A", "WH-C"]),
        ])
    }

    @Test func errorsNameTheLine() {
        let cases: [(String, String)] = [
            ("shopify,1,ITEM\n", "line 1"),
            ("channel,listing_id,item_id,locations\nwalmart,1,ITEM,WH\n", "line 2.channel"),
            ("shopify,1,ITEM,WH\nshopify,,ITEM,WH\n", "line 2.listing_id"),
            ("shopify,1,ITEM,\"WH\n", "line 1"),
            ("channel,listing_id,item_id,locations\n", "body"),
        ]
        for (text, field) in cases {
            #expect(throws: PayloadError.self) { try read(text) }
            do { _ = try read(text) } catch let error as PayloadError { #expect(error.field == field, "\(text)") } catch {}
        }
    }
}
