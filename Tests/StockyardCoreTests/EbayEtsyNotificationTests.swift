import StockyardChannels
import Testing

/// Reading eBay and Etsy notifications, from the vendors' own samples.
@Suite struct EbayEtsyNotificationTests {
    private func ebay(_ text: String) throws -> EbayNotification {
        try Array(text.utf8).withUnsafeBytes { try EbayNotification.read(body: $0) }
    }

    private func etsy(_ text: String) throws -> EtsyNotification {
        try Array(text.utf8).withUnsafeBytes { try EtsyNotification.read(body: $0) }
    }

    static let ebaySample = FixtureFiles.text("ebay/notification_envelope.sample.json")
    static let etsySample = FixtureFiles.text("etsy/order_paid.observed.json")

    @Test func ebayAccountDeletionSampleIsAcknowledged() throws {
        let notification = try ebay(Self.ebaySample)
        #expect(notification.topic == "MARKETPLACE_ACCOUNT_DELETION")
        #expect(notification.notificationID == "49feeaeb-4982-42d9-a377-9645b8479411_33f7e043-fed8-442b-9d44-791923bd9a6d")
        #expect(notification.kind == .accountDeletion)
    }

    @Test func ebayOrderTopicsNameTheOrderWhereverDataPutsIt() throws {
        let order = Self.ebaySample.replacingFirst("MARKETPLACE_ACCOUNT_DELETION", with: "ORDER_CONFIRMATION")
        let flat = order.replacingFirst(#""username": "test_user""#, with: #""orderId": "12-34567-89012""#)
        #expect(try ebay(flat).kind == .order(orderID: "12-34567-89012"))
        let nested = order.replacingFirst(#""username": "test_user""#, with: #""order": {"legacyOrderId": "110012345678-0"}"#)
        #expect(try ebay(nested).kind == .order(orderID: "110012345678-0"))
        // An order topic without an order id is refused, naming what was looked for.
        #expect { try ebay(order) } throws: { ($0 as? PayloadError)?.field == "notification.data.orderId" }
        let other = Self.ebaySample.replacingFirst("MARKETPLACE_ACCOUNT_DELETION", with: "PRIORITY_LISTING_REVISION")
        #expect(try ebay(other).kind == .ignored)
    }

    @Test func ebayEnvelopeProblemsNameTheField() {
        #expect { try ebay(#"{"notification":{}}"#) } throws: { ($0 as? PayloadError)?.field == "metadata" }
        #expect { try ebay(#"{"metadata":{"topic":""},"notification":{}}"#) } throws: { ($0 as? PayloadError)?.field == "metadata.topic" }
        #expect { try ebay(#"{"metadata":{"topic":"ORDER_CONFIRMATION"},"notification":{"notificationId":7}}"#) } throws: {
            ($0 as? PayloadError)?.field == "notification.notificationId"
        }
        #expect { try ebay("{") } throws: { ($0 as? PayloadError)?.code == .invalidJSON }
    }

    @Test func etsyObservedOrderPaid() throws {
        let notification = try etsy(Self.etsySample)
        #expect(notification.eventType == "order.paid")
        #expect(notification.shopID == "42")
        // The URL is what gets fetched; Etsy's sample names shop 12345 there.
        #expect(notification.receiptShopID == "12345")
        #expect(notification.receiptID == "54321")
    }

    @Test func etsyLooksUpOnlyEtsyReceiptURLs() throws {
        for url in [
            "http://openapi.etsy.com/v3/application/shops/12345/receipts/54321",
            "https://evil.example.com/v3/application/shops/12345/receipts/54321",
            "https://openapi.etsy.com/v3/application/shops/12345/listings/54321",
            "https://openapi.etsy.com/v3/application/shops/12345/receipts/54321/transactions",
            "https://openapi.etsy.com/v3/application/shops/x/receipts/54321",
        ] {
            let body = Self.etsySample.replacingFirst("https://openapi.etsy.com/v3/application/shops/12345/receipts/54321", with: url)
            #expect(throws: PayloadError.self, "\(url)") { try etsy(body) }
        }
        #expect { try etsy(#"{"event_type":"order.paid","shop_id":"4x2"}"#) } throws: { ($0 as? PayloadError)?.field == "shop_id" }
        #expect(try etsy(#"{"event_type":"listing.updated","shop_id":42}"#).receiptID == nil)
    }
}
