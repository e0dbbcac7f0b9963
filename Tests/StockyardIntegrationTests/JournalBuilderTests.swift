import StockyardCore
import StockyardRedis
import Testing

@testable import StockyardEngine

/// One journal entry per batch and kind, and a rolled-back job leaves no line in it.
@Suite struct JournalBuilderTests {
    func sale(_ line: String) -> SaleEvent {
        SaleEvent(channel: .shopify, listingID: "L", orderID: "O", lineID: line, quantity: 1, version: 7)
    }

    @Test func jobsOfOneKindShareAnEntryAndRollbacksLeaveNoTrace() {
        var journal = JournalBuilder()
        journal.events([(sale("1"), EventOutcome(.applied))], kind: "shopify")
        let mark = journal.mark
        journal.events([(sale("2"), EventOutcome(.applied))], kind: "shopify")
        journal.stock([StockSetting(itemID: "I", locationID: "W", zohoOnHand: 3)])
        #expect(journal.entries.map(\.kind) == ["shopify", "stock"])
        #expect(String(decoding: journal.entries[0].body, as: UTF8.self) == "shopify\tL\tO\t1\t1\t7\t-\tapplied\nshopify\tL\tO\t2\t1\t7\t-\tapplied\n")
        journal.truncate(to: mark)
        #expect(journal.entries.map(\.kind) == ["shopify"])
        #expect(String(decoding: journal.entries[0].body, as: UTF8.self) == "shopify\tL\tO\t1\t1\t7\t-\tapplied\n")
    }
}
