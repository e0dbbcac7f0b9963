import Foundation
import StockyardChannels
@testable import StockyardCore
import Testing

/// SP-API notifications as the bridge forwards them.
@Suite struct AmazonNotificationTests {
    func read(_ text: String) throws -> ChannelDelivery {
        try Array(text.utf8).withUnsafeBytes { try AmazonNotification.read(body: $0) }
    }

    static let expected = SaleEvent(
        channel: .amazon, listingID: "SellerSKUID1", orderID: "903-8868176-2219830", lineID: "OIID34853450", quantity: 10,
        version: 1_578_701_393_109_000)

    @Test func schemaExampleBecomesALine() throws {
        let delivery = try read(FixtureFiles.amazonOrderChange)
        #expect(delivery.kind == .orders)
        #expect(delivery.deliveryID == "d0e9e693-c3ad-4373-979f-ed4ec98dd746")
        #expect(delivery.lines.map(\.event) == [Self.expected])
        #expect(delivery.lines.map(\.sku) == ["SellerSKUID1"])
    }

    @Test func camelCaseKeysReadTheSame() throws {
        var text = FixtureFiles.amazonOrderChange
        for key in [
            "NotificationType", "EventTime", "Payload", "OrderChangeNotification", "AmazonOrderId", "Summary", "OrderStatus",
            "OrderItems", "OrderItemId", "SellerSKU", "Quantity", "NotificationMetadata", "NotificationId",
        ] {
            let camel = key.prefix(1).lowercased() + key.dropFirst()
            text = text.replacingOccurrences(of: "\"\(key)\"", with: "\"\(camel)\"")
        }
        #expect(text.contains("\"sellerSKU\""))
        #expect(try read(text).lines.map(\.event) == [Self.expected])
    }

    @Test func eventBridgeEnvelopeIsUnwrapped() throws {
        let text = "{\"version\": \"0\", \"id\": \"eb-1\", \"detail-type\": \"ORDER_CHANGE\", \"detail\": \(FixtureFiles.amazonOrderChange)}"
        let delivery = try read(text)
        #expect(delivery.lines.map(\.event) == [Self.expected])
        #expect(delivery.deliveryID == "d0e9e693-c3ad-4373-979f-ed4ec98dd746")
    }

    @Test func canceledOrdersReleaseAndPendingOrdersHold() throws {
        let canceled = FixtureFiles.amazonOrderChange.replacingFirst("\"OrderStatus\": \"Unshipped\"", with: "\"OrderStatus\": \"Canceled\"")
        #expect(try read(canceled).lines.map(\.event.quantity) == [0])
        let pending = FixtureFiles.amazonOrderChange.replacingFirst("\"OrderStatus\": \"Unshipped\"", with: "\"OrderStatus\": \"Pending\"")
        #expect(try read(pending).lines.map(\.event.quantity) == [10])
    }

    @Test func otherTypesMoveNothing() throws {
        let mfn = FixtureFiles.amazonOrderChange.replacingFirst("\"ORDER_CHANGE\"", with: "\"LISTINGS_ITEM_MFN_QUANTITY_CHANGE\"")
        #expect(try read(mfn).kind == .informational)
        let other = FixtureFiles.amazonOrderChange.replacingFirst("\"ORDER_CHANGE\"", with: "\"FEED_PROCESSING_FINISHED\"")
        #expect(try read(other).kind == .ignored)
    }

    @Test func badNotificationsNameTheField() throws {
        let noQuantity = FixtureFiles.amazonOrderChange.replacingFirst("\"Quantity\": 10,", with: "\"Quantity\": \"ten\",")
        #expect(throws: PayloadError(field: "Payload.OrderChangeNotification.Summary.OrderItems[0].Quantity", message: "Payload.OrderChangeNotification.Summary.OrderItems[0].Quantity must be an integer")) {
            try read(noQuantity)
        }
        let noType = FixtureFiles.amazonOrderChange.replacingFirst("\"NotificationType\": \"ORDER_CHANGE\",", with: "")
        #expect(throws: PayloadError.self) { try read(noType) }
        let noTime = FixtureFiles.amazonOrderChange.replacingFirst("\"EventTime\": \"2020-01-11T00:09:53.109Z\",", with: "")
            .replacingFirst("\"TimeOfOrderChange\": \"2022-11-29T19:42:04.284Z\",", with: "")
        #expect(throws: PayloadError.self) { try read(noTime) }
    }
}
