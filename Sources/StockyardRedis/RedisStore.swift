import CHiredis
import StockyardCore

/// One record of the journal Stream: what a batch accepted, with results.
public struct JournalEntry: Sendable {
    public var kind: String
    public var body: [UInt8]

    public init(kind: String, body: [UInt8]) {
        self.kind = kind
        self.body = body
    }
}

/// Persists a ledger's batches in Redis and rebuilds a ledger from Redis.
///
/// Each batch goes in one pipelined `MULTI`…`EXEC` round trip, so Redis holds either all of a
/// batch or none of it. Values are absolute (never increments), so writing a batch twice is
/// harmless.
public final class RedisStore {
    public let keys: RedisKeys
    public let connection: RedisConnection
    /// How long journal entries are kept, in milliseconds.
    public var journalRetentionMilliseconds: Int64
    /// How many conflicting events are kept for a person to look at.
    public var conflictsKept = 100_000

    public init(connection: RedisConnection, journalRetentionMilliseconds: Int64 = 7 * 86_400_000) {
        self.connection = connection
        self.keys = RedisKeys(prefix: connection.configuration.keyPrefix)
        self.journalRetentionMilliseconds = journalRetentionMilliseconds
    }

    /// Encodes a staged batch as one MULTI…EXEC buffer, without sending it.
    public func prepareCommit(
        _ ledger: Ledger, changes: StagedChanges, journal: [JournalEntry], inbox: InboxWrites = InboxWrites(),
        nowMilliseconds: Int64
    ) -> RedisCommandBuffer {
        var buffer = RedisCommandBuffer()
        encode(ledger, changes: changes, journal: journal, inbox: inbox, nowMilliseconds: nowMilliseconds, into: &buffer)
        return buffer
    }

    /// Sends a MULTI…EXEC buffer and checks that Redis applied it. A buffer with nothing
    /// between MULTI and EXEC is not sent.
    public func execute(_ buffer: RedisCommandBuffer) throws(RedisError) {
        try send(buffer)
        try awaitCommit(buffer)
    }

    /// Sends a MULTI…EXEC buffer without waiting for its outcome; `awaitCommit(_:)` reads it.
    /// Several buffers may be in flight; their outcomes are read in the order they were sent.
    public func send(_ buffer: RedisCommandBuffer) throws(RedisError) {
        if buffer.commandCount <= 2 { return }
        try connection.send(buffer)
    }

    /// Reads the outcome of a buffer sent with `send(_:)` and checks that Redis applied it.
    /// Replies are only checked, so they are read as summaries: no reply objects.
    public func awaitCommit(_ buffer: RedisCommandBuffer) throws(RedisError) {
        if buffer.commandCount <= 2 { return }
        var failure: RedisError?
        for index in 0..<buffer.commandCount {
            let reply = try connection.readSummary()
            if index == buffer.commandCount - 1 {
                if reply.kind != .array {
                    failure = RedisError(.server, "transaction failed: \(reply.error ?? "EXEC did not run")")
                } else if let error = reply.error {
                    failure = RedisError(.server, "command failed in transaction: \(error)")
                }
            } else if let error = reply.error, failure == nil {
                failure = RedisError(.server, error)
            }
        }
        if let failure { throw failure }
    }

    func encode(
        _ ledger: Ledger, changes: StagedChanges, journal: [JournalEntry], inbox: InboxWrites, nowMilliseconds: Int64,
        into buffer: inout RedisCommandBuffer
    ) {
        let unit = StoredFormat.unit
        buffer.command("MULTI")

        // Order lines, one HSET per shard.
        var lineShards = [[UInt32]](repeating: [], count: keys.shardCount)
        for index in changes.lines {
            lineShards[ledger.withLineKey(index) { keys.shard(of: $0) }].append(index)
        }
        for (shard, indices) in lineShards.enumerated() where !indices.isEmpty {
            buffer.begin("HSET")
            buffer.argument(keys.lines(shard: shard))
            for index in indices {
                ledger.withLineKey(index) { buffer.argument($0) }
                let record = ledger.lineRecord(index)
                buffer.argument { writer in
                    writer.decimal(Int64(record.quantity))
                    writer.byte(unit)
                    writer.decimal(record.version)
                    writer.byte(unit)
                    writer.decimal(Int64(record.consumption))
                    writer.byte(unit)
                    writer.decimal(Int64(record.touched))
                }
            }
            buffer.end()
        }
        var expiredShards = [[UInt32]](repeating: [], count: keys.shardCount)
        for index in changes.expiredLines {
            expiredShards[ledger.withLineKey(index) { keys.shard(of: $0) }].append(index)
        }
        for (shard, indices) in expiredShards.enumerated() where !indices.isEmpty {
            buffer.begin("HDEL")
            buffer.argument(keys.lines(shard: shard))
            for index in indices { ledger.withLineKey(index) { buffer.argument($0) } }
            buffer.end()
        }

        // Stock rows, sharded by item.
        var rowShards = [[UInt32]](repeating: [], count: keys.shardCount)
        for row in changes.rows {
            rowShards[keys.shard(of: ledger.row(row).itemID)].append(row)
        }
        for (shard, rows) in rowShards.enumerated() where !rows.isEmpty {
            buffer.begin("HSET")
            buffer.argument(keys.stock(shard: shard))
            for row in rows {
                let (item, location, figures) = ledger.row(row)
                buffer.argument { writer in
                    writer.raw(item)
                    writer.byte(unit)
                    writer.raw(location)
                }
                buffer.argument { writer in
                    writer.decimal(figures.zohoOnHand)
                    writer.byte(unit)
                    writer.decimal(figures.open)
                    writer.byte(unit)
                    writer.decimal(figures.inFlight)
                }
            }
            buffer.end()
        }

        if !changes.consumptions.isEmpty {
            buffer.begin("HSET")
            buffer.argument(keys.consumptions)
            for index in changes.consumptions {
                let consumption = ledger.consumption(index)
                buffer.argument(Int64(index))
                buffer.argument { writer in
                    StoredFormat.listingField(consumption.listing, into: &writer)
                    writer.byte(unit)
                    writer.raw(consumption.locationID)
                    for part in consumption.parts {
                        writer.byte(StoredFormat.record)
                        writer.raw(part.itemID)
                        writer.byte(unit)
                        writer.decimal(part.units)
                    }
                }
            }
            buffer.end()
        }

        for listing in changes.listings {
            let (key, map) = ledger.listing(listing)
            if let map {
                buffer.begin("HSET")
                buffer.argument(keys.listings)
                buffer.argument { StoredFormat.listingField(key, into: &$0) }
                buffer.argument { StoredFormat.encode(map, into: &$0) }
            } else {
                buffer.begin("HDEL")
                buffer.argument(keys.listings)
                buffer.argument { StoredFormat.listingField(key, into: &$0) }
            }
            buffer.end()
        }

        for ruleKey in changes.rules {
            if let rule = ledger.rule(ruleKey) {
                buffer.begin("HSET")
                buffer.argument(keys.rules)
                buffer.argument { StoredFormat.ruleField(ruleKey, into: &$0) }
                buffer.argument { StoredFormat.encode(rule, into: &$0) }
            } else {
                buffer.begin("HDEL")
                buffer.argument(keys.rules)
                buffer.argument { StoredFormat.ruleField(ruleKey, into: &$0) }
            }
            buffer.end()
        }

        for listing in changes.parkedListings {
            let (key, events) = ledger.parkedEvents(listing)
            if events.isEmpty {
                buffer.begin("HDEL")
                buffer.argument(keys.parked)
                buffer.argument { StoredFormat.listingField(key, into: &$0) }
            } else {
                buffer.begin("HSET")
                buffer.argument(keys.parked)
                buffer.argument { StoredFormat.listingField(key, into: &$0) }
                buffer.argument { writer in
                    for (index, event) in events.enumerated() {
                        if index > 0 { writer.byte(StoredFormat.record) }
                        StoredFormat.encode(event, into: &writer)
                    }
                }
            }
            buffer.end()
        }

        if !changes.conflicts.isEmpty {
            buffer.begin("LPUSH")
            buffer.argument(keys.conflicts)
            for event in changes.conflicts {
                buffer.argument { writer in
                    StoredFormat.listingField(event.key, into: &writer)
                    writer.byte(unit)
                    StoredFormat.encode(event, into: &writer)
                }
            }
            buffer.end()
            buffer.begin("LTRIM")
            buffer.argument(keys.conflicts)
            buffer.argument("0")
            buffer.argument(Int64(conflictsKept - 1))
            buffer.end()
        }

        for entry in journal {
            buffer.begin("XADD")
            buffer.argument(keys.journal)
            buffer.argument("MINID")
            buffer.argument("~")
            buffer.argument(max(0, nowMilliseconds - journalRetentionMilliseconds))
            buffer.argument("*")
            buffer.argument("kind")
            buffer.argument(entry.kind)
            buffer.argument("data")
            buffer.argument(entry.body)
            buffer.end()
        }
        encode(inbox, into: &buffer)
        buffer.command("EXEC")
    }
}

extension SaleEvent {
    var key: ListingKey { ListingKey(channel: channel, listingID: listingID) }
}
