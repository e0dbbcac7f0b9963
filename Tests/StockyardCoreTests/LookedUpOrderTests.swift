import Foundation
import StockyardChannels
import StockyardCore
import Testing

/// Orders and receipts fetched from eBay's and Etsy's APIs, turned into sale events.
@Suite struct LookedUpOrderTests {
    static let ebayOrder = """
        {"orderId":"12-34567-89012","creationDate":"2026-11-23T10:00:00.000Z","lastModifiedDate":"2026-11-23T10:05:00.000Z",
         "orderFulfillmentStatus":"NOT_STARTED","orderPaymentStatus":"PAID",
         "cancelStatus":{"cancelState":"NONE_REQUESTED","cancelRequests":[]},
         "lineItems":[
           {"lineItemId":"10001","legacyItemId":"110012345678","legacyVariationId":"420000001","sku":"MUG-RED","quantity":2},
           {"lineItemId":"10002","legacyItemId":"110012345679","sku":"MUG-BLUE","quantity":1},
           {"lineItemId":"10003","legacyItemId":"110012345680","quantity":3}]}
        """

    private func ebay(_ text: String) throws -> ChannelDelivery {
        try Array(text.utf8).withUnsafeBytes { try EbayOrder.read(body: $0, deliveryID: "n-1") }
    }

    private func etsy(_ text: String) throws -> ChannelDelivery {
        try Array(text.utf8).withUnsafeBytes { try EtsyReceipt.read(body: $0, deliveryID: "evt_1") }
    }

    @Test func ebayLinesNameTheItemAndVariationOrSKU() throws {
        let delivery = try ebay(Self.ebayOrder)
        #expect(delivery.channel == .ebay)
        #expect(delivery.deliveryID == "n-1")
        #expect(delivery.lines.map(\.event.listingID) == ["110012345678/420000001", "110012345679/sku:MUG-BLUE", "110012345680"])
        #expect(delivery.lines.map(\.event.orderID) == ["12-34567-89012", "12-34567-89012", "12-34567-89012"])
        #expect(delivery.lines.map(\.event.lineID) == ["10001", "10002", "10003"])
        #expect(delivery.lines.map(\.event.quantity) == [2, 1, 3])
        #expect(delivery.lines.first?.event.version == SourceVersion.parseTimestamp("2026-11-23T10:05:00.000Z"))
        #expect(delivery.lines.map(\.sku) == ["MUG-RED", "MUG-BLUE", nil])
    }

    @Test func aCanceledEbayOrderReleasesItsLines() throws {
        let canceled = Self.ebayOrder.replacingOccurrences(of: "NONE_REQUESTED", with: "CANCELED")
            .replacingOccurrences(of: "10:05:00", with: "11:00:00")
        let delivery = try ebay(canceled)
        #expect(delivery.lines.map(\.event.quantity) == [0, 0, 0])
        #expect(delivery.lines.first?.event.version ?? 0 > (try ebay(Self.ebayOrder).lines.first?.event.version ?? .max))
    }

    @Test func ebayOrderProblemsNameTheField() {
        #expect { try ebay(Self.ebayOrder.replacingOccurrences(of: #""quantity":2"#, with: #""quantity":-2"#)) } throws: {
            ($0 as? PayloadError)?.field == "lineItems[0].quantity"
        }
        #expect { try ebay(Self.ebayOrder.replacingOccurrences(of: #""lastModifiedDate""#, with: #""modified""#)) } throws: {
            ($0 as? PayloadError)?.field == "lastModifiedDate"
        }
        #expect { try ebay(Self.ebayOrder.replacingOccurrences(of: #""legacyItemId":"110012345679","#, with: "")) } throws: {
            ($0 as? PayloadError)?.field == "lineItems[1].legacyItemId"
        }
    }

    static let etsyReceipt = """
        {"receipt_id":9007199254740993,"receipt_type":0,"seller_user_id":77,"status":"Paid","is_paid":true,"is_shipped":false,
         "created_timestamp":1795400000,"updated_timestamp":1795400300,
         "transactions":[
           {"transaction_id":4000000001,"listing_id":1500000001,"product_id":2200000001,"sku":"TEE-M","quantity":2},
           {"transaction_id":4000000002,"listing_id":1500000002,"product_id":null,"sku":"","quantity":1}]}
        """

    @Test func etsyTransactionsAreLinesOfTheReceipt() throws {
        let delivery = try etsy(Self.etsyReceipt)
        #expect(delivery.channel == .etsy)
        // Above 2^53, kept exactly.
        #expect(delivery.lines.map(\.event.orderID) == ["9007199254740993", "9007199254740993"])
        #expect(delivery.lines.map(\.event.lineID) == ["4000000001", "4000000002"])
        #expect(delivery.lines.map(\.event.listingID) == ["1500000001/2200000001", "1500000002"])
        #expect(delivery.lines.map(\.event.quantity) == [2, 1])
        #expect(delivery.lines.first?.event.version == 1_795_400_300_000_000)
        #expect(delivery.lines.map(\.sku) == ["TEE-M", nil])
    }

    @Test func aCanceledEtsyReceiptReleasesItsLines() throws {
        let delivery = try etsy(Self.etsyReceipt.replacingOccurrences(of: #""Paid""#, with: #""Canceled""#))
        #expect(delivery.lines.map(\.event.quantity) == [0, 0])
    }

    @Test func etsyReceiptProblemsNameTheField() {
        #expect { try etsy(Self.etsyReceipt.replacingOccurrences(of: #""listing_id":1500000002"#, with: #""listing_id":"x""#)) } throws: {
            ($0 as? PayloadError)?.field == "transactions[1].listing_id"
        }
        #expect { try etsy(Self.etsyReceipt.replacingOccurrences(of: #""updated_timestamp":1795400300"#, with: #""updated_timestamp":"soon""#)) } throws: {
            ($0 as? PayloadError)?.field == "updated_timestamp"
        }
        #expect { try etsy("[]") } throws: { ($0 as? PayloadError)?.code == .invalidJSON }
    }
}
