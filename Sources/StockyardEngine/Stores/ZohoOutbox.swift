/// What is on its way to Zoho or came from it: batches sealed and not settled yet, and per row
/// the modification time of the last absolute correction applied (so an older one is refused).
package struct ZohoOutbox {
    package var batches: [String: ZohoBatch] = [:]
    /// Per `item 0x1F location`, Zoho's modification time (microseconds) of the last absolute
    /// correction applied to the row.
    package var corrections: [String: Int64] = [:]

    package init() {}

    /// Batches sealed and not settled, oldest first.
    package var sortedBatches: [ZohoBatch] {
        batches.values.sorted { ($0.sealedAt, $0.id) < ($1.sealedAt, $1.id) }
    }

    package mutating func apply(added: [ZohoBatch], removed: [String], corrections applied: [(String, Int64)]) {
        for id in removed { batches[id] = nil }
        for batch in added { batches[batch.id] = batch }
        for (row, modifiedAt) in applied { corrections[row] = modifiedAt }
    }
}
