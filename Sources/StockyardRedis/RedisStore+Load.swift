import CHiredis
import StockyardCore

/// What a load found.
public struct LoadReport: Sendable {
    public var rows = 0
    public var lines = 0
    public var listings = 0
    public var rules = 0
    public var consumptions = 0
    public var parkedEvents = 0
}

extension RedisStore {
    /// Checks the stored layout, or writes it for an empty store.
    public func prepare() throws(RedisError) {
        let reply = try connection.command(["HMGET", keys.meta, "format", "shards"])
        guard case .array(let values) = reply, values.count == 2 else {
            throw RedisError(.unexpectedReply, "HMGET meta")
        }
        if values[0] == .null {
            _ = try connection.command([
                "HSET", keys.meta, "format", String(RedisKeys.formatVersion), "shards", String(keys.shardCount),
            ])
            return
        }
        guard values[0].text == String(RedisKeys.formatVersion) else {
            throw RedisError(.corruptData, "stored format \(values[0].text ?? "?") is not \(RedisKeys.formatVersion)")
        }
        guard values[1].text == String(keys.shardCount) else {
            throw RedisError(.corruptData, "stored shard count \(values[1].text ?? "?") is not \(keys.shardCount)")
        }
    }

    /// Answers whether Redis is there.
    public func ping() throws(RedisError) {
        let reply = try connection.command(["PING"])
        guard reply == .status("PONG") else { throw RedisError(.unexpectedReply, "PING") }
    }

    /// Rebuilds a fresh ledger from Redis alone.
    public func load(into ledger: Ledger) throws(RedisError) -> LoadReport {
        try prepare()
        var report = LoadReport()

        // Stock rows.
        try scanHashes((0..<keys.shardCount).map { keys.stock(shard: $0) }) { field, value throws(RedisError) in
            let names = StoredFormat.split(field, on: StoredFormat.unit)
            let figures = StoredFormat.split(value, on: StoredFormat.unit).map { StoredFormat.integer($0) }
            guard names.count == 2, figures.count == 3, let onHand = figures[0], let open = figures[1],
                let inFlight = figures[2]
            else { throw RedisError(.corruptData, "bad stock row") }
            ledger.restoreRow(
                itemID: StoredFormat.text(names[0]), locationID: StoredFormat.text(names[1]),
                figures: StockFigures(zohoOnHand: onHand, open: open, inFlight: inFlight))
            report.rows += 1
        }

        // Listing maps and rules.
        try scanHashes([keys.listings]) { field, value throws(RedisError) in
            let key = try StoredFormat.listingKey(Array(field))
            ledger.restoreListing(try StoredFormat.decodeListing(key, Array(value)))
            report.listings += 1
        }
        try scanHashes([keys.rules]) { field, value throws(RedisError) in
            ledger.restoreRule(try StoredFormat.decodeRule(field: Array(field), Array(value)))
            report.rules += 1
        }

        // Consumptions, in index order.
        var consumptions: [(UInt32, ListingKey, String, [(itemID: String, units: Int64)])] = []
        try scanHashes([keys.consumptions]) { field, value throws(RedisError) in
            let records = StoredFormat.split(value, on: StoredFormat.record)
            let head = StoredFormat.split(records[0], on: StoredFormat.unit)
            guard let index = StoredFormat.integer(field), index >= 0, index < UInt32.max, head.count == 3,
                let channel = Channel(name: StoredFormat.text(head[0]))
            else { throw RedisError(.corruptData, "bad consumption") }
            var parts: [(itemID: String, units: Int64)] = []
            for record in records.dropFirst() {
                let fields = StoredFormat.split(record, on: StoredFormat.unit)
                guard fields.count == 2, let units = StoredFormat.integer(fields[1]) else {
                    throw RedisError(.corruptData, "bad consumption part")
                }
                parts.append((StoredFormat.text(fields[0]), units))
            }
            consumptions.append(
                (UInt32(index), ListingKey(channel: channel, listingID: StoredFormat.text(head[1])), StoredFormat.text(head[2]), parts))
        }
        consumptions.sort { $0.0 < $1.0 }
        for (index, listing, location, parts) in consumptions {
            ledger.restoreConsumption(index: index, listing: listing, locationID: location, parts: parts)
        }
        report.consumptions = consumptions.count

        // Order lines.
        var lineCount = 0
        for shard in 0..<keys.shardCount {
            let reply = try connection.command(["HLEN", keys.lines(shard: shard)])
            if case .integer(let count) = reply { lineCount += Int(count) }
        }
        ledger.reserveLines(lineCount + lineCount / 4)
        let consumptionCount = ledger.consumptionCount
        let lineKeys = (0..<keys.shardCount).map { keys.lines(shard: $0) }
        try scanHashes(lineKeys, ahead: { ledger.prefetchLine(key: $0) }) { field, value throws(RedisError) in
            var numbers: (Int64, Int64, Int64, Int64) = (0, 0, 0, 0)
            var position = 0
            var start = 0
            for index in 0...value.count where index == value.count || value[index] == StoredFormat.unit {
                guard let number = StoredFormat.integer(UnsafeRawBufferPointer(rebasing: value[start..<index])) else {
                    throw RedisError(.corruptData, "bad order line")
                }
                switch position {
                case 0: numbers.0 = number
                case 1: numbers.1 = number
                case 2: numbers.2 = number
                case 3: numbers.3 = number
                default: throw RedisError(.corruptData, "bad order line")
                }
                position += 1
                start = index + 1
            }
            guard position == 4, numbers.2 >= 0, numbers.2 < consumptionCount, field.count >= 3 else {
                throw RedisError(.corruptData, "bad order line")
            }
            ledger.restoreLine(
                key: field, consumption: UInt32(numbers.2), quantity: Int32(clamping: numbers.0),
                version: numbers.1, touched: UInt32(clamping: numbers.3))
            report.lines += 1
        }

        // Parked events.
        try scanHashes([keys.parked]) { field, value throws(RedisError) in
            let key = try StoredFormat.listingKey(Array(field))
            let events = try StoredFormat.split(Array(value), on: StoredFormat.record).map { bytes throws(RedisError) in
                try StoredFormat.decodeEvent(key, bytes)
            }
            ledger.restoreParked(key, events: events)
            report.parkedEvents += events.count
        }
        return report
    }

    /// Walks every field of several hashes with HSCAN, keeping a few scans in flight: as soon
    /// as one reply is read, the next scan of that hash is queued, so Redis builds replies while
    /// this side reads. (Too many replies in flight make hiredis shift its read buffer over and
    /// over.)
    ///
    /// - Parameter ahead: called with the field eight places ahead of the one visited, so that the
    ///   visitor can start fetching what that field will need.
    func scanHashes(
        _ keys: [String], window: Int = 3, ahead: ((UnsafeRawBufferPointer) -> Void)? = nil,
        visit: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(RedisError) -> Void
    ) throws(RedisError) {
        var waiting = Array(keys.indices.reversed())
        // Hashes whose scan is in flight, in the order their replies will come.
        var inFlight: [Int] = []
        func scan(_ index: Int, cursor: String) throws(RedisError) {
            var buffer = RedisCommandBuffer()
            buffer.command("HSCAN", keys[index], cursor, "COUNT", "10000")
            try connection.send(buffer)
            inFlight.append(index)
        }
        while inFlight.count < window, let next = waiting.popLast() { try scan(next, cursor: "0") }
        while !inFlight.isEmpty {
            let index = inFlight.removeFirst()
            var cursor = "0"
            try connection.readReply { reply throws(RedisError) in
                guard Int32(reply.pointee.type) == REDIS_REPLY_ARRAY, reply.pointee.elements == 2,
                    let cursorReply = reply.pointee.element[0], let items = reply.pointee.element[1],
                    let text = RedisReply(cursorReply).text
                else { throw RedisError(.unexpectedReply, "HSCAN \(keys[index])") }
                cursor = text
                // Queue the next scan before walking this reply.
                if cursor != "0" {
                    try scan(index, cursor: cursor)
                } else if let next = waiting.popLast() {
                    try scan(next, cursor: "0")
                }
                let count = Int(items.pointee.elements)
                var element = 0
                while element + 1 < count {
                    if let ahead, element + 16 < count {
                        let next = items.pointee.element[element + 16]!.pointee
                        ahead(UnsafeRawBufferPointer(start: next.str, count: Int(next.len)))
                    }
                    let field = items.pointee.element[element]!.pointee
                    let value = items.pointee.element[element + 1]!.pointee
                    try visit(
                        UnsafeRawBufferPointer(start: field.str, count: Int(field.len)),
                        UnsafeRawBufferPointer(start: value.str, count: Int(value.len)))
                    element += 2
                }
            }
        }
    }
}
