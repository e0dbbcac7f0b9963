import StockyardCore
import Testing

@testable import StockyardEngine

/// Delivery ids in memory: kept, forgotten oldest first, and grown without holding the lock.
///
/// `Inbox.commit` asserts that nothing grows while it holds the lock (HTTP handlers take it for
/// every webhook), so every commit below checks that the tables were grown ahead, outside it.
@Suite struct InboxTests {
    func stage(_ ids: Range<Int>, expiresAt: Int64 = 1_000) -> InboxStage {
        var stage = InboxStage()
        for id in ids {
            stage.deliveries.append((Inbox.Fingerprint(channel: .shopify, deliveryID: "d-\(id)"), "shopify:d-\(id)", expiresAt))
        }
        return stage
    }

    func seen(_ inbox: Inbox, _ id: Int) -> Bool {
        inbox.seen(channel: .shopify, deliveryID: "d-\(id)")
    }

    @Test(arguments: [1, 7, 300, 5_000])
    func idsAreKeptAcrossEveryGrowth(batch: Int) {
        let inbox = Inbox(maxDeliveries: 1_000_000)
        var stored = 0
        while stored < 40_000 {
            inbox.commit(stage(stored..<stored + batch))
            stored += batch
        }
        #expect(inbox.deliveryCount == stored)
        #expect((0..<stored).allSatisfy { seen(inbox, $0) })
        #expect(!seen(inbox, stored))
        #expect(!inbox.seen(channel: .amazon, deliveryID: "d-0"))
    }

    @Test func theOldestIdsAreForgottenBeyondTheLimit() {
        let inbox = Inbox(maxDeliveries: 1_000)
        for start in stride(from: 0, to: 5_000, by: 250) { inbox.commit(stage(start..<start + 250)) }
        #expect(inbox.deliveryCount == 1_000)
        #expect((4_000..<5_000).allSatisfy { seen(inbox, $0) })
        #expect(!(0..<4_000).contains { seen(inbox, $0) })
    }

    @Test func expiredIdsAreForgottenAndTheRestStayInOrder() {
        let inbox = Inbox(maxDeliveries: 1_000_000)
        // Ids 0..<30 000 expire at second 1 030, 1 060, … in blocks of 1 000.
        for block in 0..<30 {
            inbox.commit(stage(block * 1_000..<(block + 1) * 1_000, expiresAt: 1_000 + Int64(block + 1) * 30))
        }
        // Forgetting 20 000 of them drops them from the head of the order, outside the lock.
        inbox.expire(nowSeconds: 1_000 + 20 * 30)
        #expect(inbox.deliveryCount == 10_000)
        #expect(!(0..<20_000).contains { seen(inbox, $0) })
        #expect((20_000..<30_000).allSatisfy { seen(inbox, $0) })
        // The order survived: the next expiry forgets exactly the next block, and new ids still fit.
        inbox.expire(nowSeconds: 1_000 + 21 * 30)
        #expect(inbox.deliveryCount == 9_000)
        #expect(!seen(inbox, 20_999) && seen(inbox, 21_000))
        inbox.commit(stage(30_000..<31_000, expiresAt: 5_000))
        #expect(inbox.deliveryCount == 10_000)
        inbox.expire(nowSeconds: 4_999)
        #expect(inbox.deliveryCount == 1_000)
        #expect((30_000..<31_000).allSatisfy { seen(inbox, $0) })
    }
}
