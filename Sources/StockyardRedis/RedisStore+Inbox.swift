import CHiredis

/// Writes beside the ledger's that go in the same transaction: delivery ids, dead letters and
/// the item catalogue. Values are opaque bytes encoded by their owner.
public struct InboxWrites: Sendable {
    /// Delivery ids with the second they may be forgotten.
    public var deliveries: [(id: String, expiresAt: Int64)] = []
    public var deadLetters: [(id: String, record: [UInt8])] = []
    public var removedDeadLetters: [String] = []
    public var items: [(itemID: String, record: [UInt8])] = []
    public var removedItems: [String] = []
    /// Zoho batches sealed (or rewritten), and those settled.
    public var zohoBatches: [(id: String, record: [UInt8])] = []
    public var removedZohoBatches: [String] = []
    /// Look-up jobs stored (or rewritten), and those done.
    public var lookups: [(id: String, record: [UInt8])] = []
    public var removedLookups: [String] = []
    /// Absolute Zoho corrections applied: `item 0x1F location` and the record's modification time
    /// (microseconds, as decimal text).
    public var corrections: [(id: String, record: [UInt8])] = []

    public init() {}

    public var isEmpty: Bool {
        deliveries.isEmpty && deadLetters.isEmpty && removedDeadLetters.isEmpty && items.isEmpty && removedItems.isEmpty
            && zohoBatches.isEmpty && removedZohoBatches.isEmpty && lookups.isEmpty && removedLookups.isEmpty
            && corrections.isEmpty
    }

    public mutating func append(_ other: InboxWrites) {
        deliveries += other.deliveries
        deadLetters += other.deadLetters
        removedDeadLetters += other.removedDeadLetters
        items += other.items
        corrections += other.corrections
        removedItems += other.removedItems
        zohoBatches += other.zohoBatches
        removedZohoBatches += other.removedZohoBatches
        lookups += other.lookups
        removedLookups += other.removedLookups
    }
}

/// What the inbox keys held at load.
public struct InboxSnapshot: Sendable {
    public var deliveries: [(id: String, expiresAt: Int64)] = []
    public var deadLetters: [(id: String, record: [UInt8])] = []
    public var items: [(itemID: String, record: [UInt8])] = []
    public var zohoBatches: [(id: String, record: [UInt8])] = []
    public var lookups: [(id: String, record: [UInt8])] = []
    public var corrections: [(id: String, record: [UInt8])] = []
}

extension RedisStore {
    func encode(_ inbox: InboxWrites, into buffer: inout RedisCommandBuffer) {
        if !inbox.deliveries.isEmpty {
            buffer.begin("ZADD")
            buffer.argument(keys.deliveries)
            for delivery in inbox.deliveries {
                buffer.argument(delivery.expiresAt)
                buffer.argument(delivery.id)
            }
            buffer.end()
        }
        hashSet(keys.deadLetters, inbox.deadLetters, into: &buffer)
        hashDelete(keys.deadLetters, inbox.removedDeadLetters, into: &buffer)
        hashSet(keys.items, inbox.items.map { ($0.itemID, $0.record) }, into: &buffer)
        hashDelete(keys.items, inbox.removedItems, into: &buffer)
        hashDelete(keys.zohoBatches, inbox.removedZohoBatches, into: &buffer)
        hashSet(keys.zohoBatches, inbox.zohoBatches, into: &buffer)
        hashDelete(keys.lookups, inbox.removedLookups, into: &buffer)
        hashSet(keys.lookups, inbox.lookups, into: &buffer)
        hashSet(keys.zohoCorrections, inbox.corrections, into: &buffer)
    }

    private func hashSet(_ key: String, _ entries: [(id: String, record: [UInt8])], into buffer: inout RedisCommandBuffer) {
        guard !entries.isEmpty else { return }
        buffer.begin("HSET")
        buffer.argument(key)
        for entry in entries {
            buffer.argument(entry.id)
            buffer.argument(entry.record)
        }
        buffer.end()
    }

    private func hashDelete(_ key: String, _ fields: [String], into buffer: inout RedisCommandBuffer) {
        guard !fields.isEmpty else { return }
        buffer.begin("HDEL")
        buffer.argument(key)
        for field in fields { buffer.argument(field) }
        buffer.end()
    }

    /// Reads the inbox keys: deliveries that have not expired by `nowSeconds`, dead letters, items.
    public func loadInbox(nowSeconds: Int64) throws(RedisError) -> InboxSnapshot {
        var snapshot = InboxSnapshot()
        var offset = 0
        let page = 10_000
        while true {
            let reply = try connection.command([
                "ZRANGEBYSCORE", keys.deliveries, String(nowSeconds + 1), "+inf", "WITHSCORES", "LIMIT", String(offset),
                String(page),
            ])
            guard case .array(let values) = reply, values.count % 2 == 0 else {
                throw RedisError(.unexpectedReply, "ZRANGEBYSCORE deliveries")
            }
            var index = 0
            while index < values.count {
                guard let id = values[index].text, let score = values[index + 1].text.flatMap({ Double($0) }) else {
                    throw RedisError(.corruptData, "bad delivery id")
                }
                snapshot.deliveries.append((id, Int64(score)))
                index += 2
            }
            if values.count < page * 2 { break }
            offset += page
        }
        try scanHashes([keys.deadLetters]) { field, value throws(RedisError) in
            snapshot.deadLetters.append((StoredFormat.text(field), Array(value)))
        }
        try scanHashes([keys.items]) { field, value throws(RedisError) in
            snapshot.items.append((StoredFormat.text(field), Array(value)))
        }
        try scanHashes([keys.zohoBatches]) { field, value throws(RedisError) in
            snapshot.zohoBatches.append((StoredFormat.text(field), Array(value)))
        }
        try scanHashes([keys.lookups]) { field, value throws(RedisError) in
            snapshot.lookups.append((StoredFormat.text(field), Array(value)))
        }
        try scanHashes([keys.zohoCorrections]) { field, value throws(RedisError) in
            snapshot.corrections.append((StoredFormat.text(field), Array(value)))
        }
        return snapshot
    }

    /// Forgets delivery ids that expired by `nowSeconds`.
    public func expireDeliveries(nowSeconds: Int64) throws(RedisError) {
        let reply = try connection.command(["ZREMRANGEBYSCORE", keys.deliveries, "-inf", String(nowSeconds)])
        if case .error(let message) = reply { throw RedisError(.server, message) }
    }
}
