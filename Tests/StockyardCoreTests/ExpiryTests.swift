@testable import StockyardCore
import Testing

/// Order-line state is kept for the retention after its last change, then forgotten: stock is
/// not touched, and a later event for the line is treated as a new line.
@Suite struct ExpiryTests {
    let retention: UInt32 = 100
    let onHand: Int64 = 1_000_000
    let start: UInt32 = 10_000

    func seeded(expectedLines: Int = 1024) throws -> Ledger {
        try Fixture.ledger(
            onHand: [("ITEM-1", "WH-A", onHand)],
            maps: [Fixture.itemMap("L-1", item: "ITEM-1")],
            configuration: .init(lineRetention: retention, expectedLines: expectedLines))
    }

    @Test func defaultRetentionIs120Days() {
        #expect(Ledger().configuration.lineRetention == 120 * 24 * 60 * 60)
    }

    @Test func oldLinesExpireRecentOnesStay() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(line: "old", quantity: 2, version: 1), now: start)
        ledger.commitEvent(Fixture.sale(line: "recent", quantity: 3, version: 1), now: start + 50)
        let now = start + retention + 1  // "old" unchanged for retention + 1 seconds
        ledger.beginBatch()
        #expect(ledger.expireLines(now: now) == 1)
        let expired = ledger.stagedChanges().expiredLines
        #expect(expired.count == 1)
        #expect(ledger.lineKey(expired[0]).line == "old")
        #expect(ledger.lineRecord(expired[0]).live == false)
        #expect(ledger.stagedChanges().lines.isEmpty)
        #expect(ledger.stagedChanges().rows.isEmpty)  // stock is not touched
        ledger.commitBatch()
        #expect(ledger.lineCount == 1)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2 - 3)

        // The recent line is still known; the old one is treated as new.
        #expect(ledger.commitEvent(Fixture.sale(line: "recent", quantity: 3, version: 1), now: now) == .duplicate)
        #expect(ledger.commitEvent(Fixture.sale(line: "old", quantity: 2, version: 1), now: now) == .applied)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2 - 3 - 2)
    }

    @Test func lineExactlyAtTheRetentionIsKept() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 2, version: 1), now: start)
        ledger.beginBatch()
        #expect(ledger.expireLines(now: start + retention) == 0)
        #expect(ledger.expireLines(now: start + retention + 1) == 1)
        ledger.commitBatch()
        #expect(ledger.lineCount == 0)
    }

    @Test func nowWithinTheFirstRetentionExpiresNothing() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 2, version: 1), now: 0)
        ledger.beginBatch()
        #expect(ledger.expireLines(now: retention) == 0)
        #expect(ledger.batchIsEmpty)
        ledger.commitBatch()
    }

    @Test func everyChangeRestartsTheRetention() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 2, version: 1), now: start)
        ledger.commitEvent(Fixture.sale(quantity: 1, version: 2), now: start + 90)
        ledger.beginBatch()
        #expect(ledger.expireLines(now: start + retention + 1) == 0)
        ledger.commitBatch()
        #expect(ledger.commitEvent(Fixture.sale(quantity: 2, version: 1), now: start + retention + 1) == .stale)
    }

    @Test func duplicatesDoNotRestartTheRetention() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 2, version: 1), now: start)
        ledger.commitEvent(Fixture.sale(quantity: 2, version: 1), now: start + 90)
        ledger.beginBatch()
        #expect(ledger.expireLines(now: start + retention + 1) == 1)
        ledger.commitBatch()
    }

    @Test func limitBoundsTheWork() throws {
        let ledger = try seeded()
        let count = 5
        ledger.commitEvents((0..<count).map { Fixture.sale(line: "\($0)", quantity: 1, version: 1) }, now: start)
        let now = start + retention + 1
        ledger.beginBatch()
        #expect(ledger.expireLines(now: now, limit: 2) == 2)
        #expect(ledger.stagedChanges().expiredLines.count == 2)
        #expect(ledger.expireLines(now: now, limit: 2) == 2)
        #expect(ledger.expireLines(now: now, limit: 2) == count - 4)
        #expect(ledger.expireLines(now: now, limit: 2) == 0)
        ledger.commitBatch()
        #expect(ledger.lineCount == 0)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - Int64(count))
    }

    @Test func rolledBackExpiryKeepsTheLine() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 2, version: 1), now: start)
        ledger.beginBatch()
        #expect(ledger.expireLines(now: start + retention + 1) == 1)
        ledger.rollbackBatch()
        #expect(ledger.lineCount == 1)
        #expect(ledger.commitEvent(Fixture.sale(quantity: 2, version: 1), now: start + 1) == .duplicate)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2)
    }

    @Test func expiredThenRecreatedInOneBatchIsAChangedLine() throws {
        let ledger = try seeded()
        ledger.commitEvent(Fixture.sale(quantity: 2, version: 5), now: start)
        let now = start + retention + 1
        ledger.beginBatch()
        #expect(ledger.expireLines(now: now) == 1)
        // Older than the forgotten state, but nothing remembers that any more.
        #expect(ledger.apply(Fixture.sale(quantity: 1, version: 1), now: now).result == .applied)
        let changes = ledger.stagedChanges()
        #expect(changes.expiredLines.isEmpty)
        #expect(changes.lines.count == 1)
        ledger.commitBatch()
        #expect(ledger.lineCount == 1)
        #expect(ledger.available("ITEM-1", "WH-A") == onHand - 2 - 1)
    }

    @Test func manyExpiredLinesAreCompactedAway() throws {
        // Enough expired lines for the table to be rebuilt on commit.
        let ledger = try seeded(expectedLines: 16)
        let old = 1_500
        let recent = 300
        ledger.commitEvents((0..<old).map { Fixture.sale(order: "OLD", line: "\($0)", quantity: 1, version: 1) }, now: start)
        ledger.commitEvents(
            (0..<recent).map { Fixture.sale(order: "NEW", line: "\($0)", quantity: 2, version: 3) }, now: start + 90)
        #expect(ledger.lineCount == old + recent)
        let memoryBefore = ledger.lineMemoryFootprint
        let now = start + retention + 1
        ledger.beginBatch()
        #expect(ledger.expireLines(now: now) == old)
        ledger.commitBatch()
        #expect(ledger.lineCount == recent)
        #expect(ledger.lineMemoryFootprint < memoryBefore)
        let stock = onHand - Int64(old) - Int64(recent) * 2
        #expect(ledger.available("ITEM-1", "WH-A") == stock)

        // Every recent line is still found with its state; the expired ones are new lines.
        let duplicates = ledger.commitEvents(
            (0..<recent).map { Fixture.sale(order: "NEW", line: "\($0)", quantity: 2, version: 3) }, now: now)
        #expect(duplicates.allSatisfy { $0 == .duplicate })
        let stale = ledger.commitEvents(
            (0..<recent).map { Fixture.sale(order: "NEW", line: "\($0)", quantity: 9, version: 2) }, now: now)
        #expect(stale.allSatisfy { $0 == .stale })
        let edits = ledger.commitEvents(
            (0..<recent).map { Fixture.sale(order: "NEW", line: "\($0)", quantity: 1, version: 4) }, now: now)
        #expect(edits.allSatisfy { $0 == .applied })
        let reborn = ledger.commitEvents(
            (0..<10).map { Fixture.sale(order: "OLD", line: "\($0)", quantity: 1, version: 1) }, now: now)
        #expect(reborn.allSatisfy { $0 == .applied })
        #expect(ledger.lineCount == recent + 10)
        #expect(ledger.available("ITEM-1", "WH-A") == stock + Int64(recent) * (2 - 1) - 10)

        // Expiry keeps working on the rebuilt table.
        ledger.beginBatch()
        #expect(ledger.expireLines(now: now + retention + 1) == recent + 10)
        ledger.commitBatch()
        #expect(ledger.lineCount == 0)
    }
}
