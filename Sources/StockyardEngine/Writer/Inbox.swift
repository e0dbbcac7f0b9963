import Crypto
import Foundation
import StockyardChannels
import StockyardCore
import StockyardRedis
import Synchronization

/// An item of the catalogue: its SKU and the locations a self-mapped listing draws from.
public struct CatalogueItem: Sendable, Hashable {
    public var itemID: String
    public var sku: String
    /// Locations in priority order; empty means "wherever the item has stock rows".
    public var locations: [String]

    public init(itemID: String, sku: String, locations: [String] = []) {
        self.itemID = itemID
        self.sku = sku
        self.locations = locations
    }
}

/// A webhook body kept because it authenticated but could not be read.
public struct DeadLetter: Sendable, Hashable {
    public var id: String
    public var channel: String
    /// Milliseconds since 1970.
    public var receivedAt: Int64
    public var code: String
    public var message: String
    public var field: String?
    /// The headers needed to read the body again (topic, shop, delivery id, time).
    public var headers: [String: String]
    public var body: [UInt8]
    public var replays: Int

    /// The header naming what a letter holds when it is not a webhook body as received
    /// (a refused Zoho line, a failed look-up, a looked-up order).
    package static let kindHeader = "x-stockyard-kind"

    package init(
        id: String, channel: String, receivedAt: Int64, code: String, message: String, field: String?, headers: [String: String],
        body: [UInt8], replays: Int
    ) {
        self.id = id
        self.channel = channel
        self.receivedAt = receivedAt
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
        self.body = body
        self.replays = replays
    }

    /// A new id: arrival time in milliseconds, then a random suffix, so ids sort by arrival.
    package static func newID(milliseconds: Int64) -> String {
        String(milliseconds).leftPadded(to: 13) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16).leftPadded(to: 8)
    }
}

/// The webhook side of the state: recent delivery ids, dead letters and the item catalogue.
///
/// Only the writer changes it, after Redis has stored the change; HTTP handlers read it.
public final class Inbox: Sendable {
    /// A 128-bit digest of `channel` and a delivery id: what memory keeps of each id.
    package struct Fingerprint: Hashable, Sendable {
        package var high: UInt64
        package var low: UInt64

        package init(channel: Channel, deliveryID: String) {
            self.init(tag: channel.rawValue, deliveryID: deliveryID)
        }

        /// An adjustment made in Zoho, remembered so that a redelivery moves nothing.
        package init(zohoAdjustmentID: String) {
            self.init(tag: 0xF0, deliveryID: zohoAdjustmentID)
        }

        private init(tag: UInt8, deliveryID: String) {
            var hasher = SHA256()
            hasher.update(data: [tag, 0x1F])
            hasher.update(data: Array(deliveryID.utf8))
            let digest = Array(hasher.finalize())
            var high: UInt64 = 0
            var low: UInt64 = 0
            for index in 0..<8 {
                high = high << 8 | UInt64(digest[index])
                low = low << 8 | UInt64(digest[8 + index])
            }
            self.high = high
            self.low = low
        }
    }

    package struct State {
        package var deliveries = Set<Fingerprint>()
        /// Delivery ids in the order they were stored, with their expiry (seconds).
        package var deliveryOrder: [(Fingerprint, Int64)] = []
        package var deliveryHead = 0
        package var deadLetters: [String: DeadLetter] = [:]
        package var items: [String: CatalogueItem] = [:]
        package var itemsBySKU: [String: String] = [:]
        package var zohoBatches: [String: ZohoBatch] = [:]
        package var lookups: [String: LookupJob] = [:]
        /// Per `item 0x1F location`, Zoho's modification time (microseconds) of the last absolute
        /// correction applied to the row.
        package var corrections: [String: Int64] = [:]
        /// Moves each time look-up jobs are stored, so idle workers know when to look again.
        package var lookupGeneration = 0

        /// Whether `incoming` more delivery ids fit without growing a table.
        package func hasRoom(forDeliveries incoming: Int) -> Bool {
            deliveries.count + incoming <= deliveries.capacity && deliveryOrder.count + incoming <= deliveryOrder.capacity
        }
    }

    /// Most delivery ids kept in memory; the oldest are forgotten first (it is only a fast path:
    /// order lines are idempotent anyway).
    package let maxDeliveries: Int
    private let state = Mutex(State())

    package init(maxDeliveries: Int) {
        self.maxDeliveries = maxDeliveries
    }

    // MARK: Reads

    package func seen(_ fingerprint: Fingerprint) -> Bool {
        state.withLock { $0.deliveries.contains(fingerprint) }
    }

    /// Whether a delivery with this id was stored lately.
    public func seen(channel: Channel, deliveryID: String) -> Bool {
        seen(Fingerprint(channel: channel, deliveryID: deliveryID))
    }

    package var deliveryCount: Int { state.withLock { $0.deliveries.count } }

    package var deadLetterCount: Int { state.withLock { $0.deadLetters.count } }

    /// Dead letters, oldest first, after the id `after` (ids sort by arrival).
    package func deadLetters(after: String?, limit: Int) -> [DeadLetter] {
        state.withLock { state in
            let ids = state.deadLetters.keys.filter { after == nil || $0 > after! }.sorted().prefix(limit)
            return ids.map { state.deadLetters[$0]! }
        }
    }

    package func deadLetter(_ id: String) -> DeadLetter? {
        state.withLock { $0.deadLetters[id] }
    }

    /// Zoho's modification time of the last absolute correction applied to a row, if any.
    package func correctionTime(row: String) -> Int64? {
        state.withLock { $0.corrections[row] }
    }

    package func item(sku: String) -> CatalogueItem? {
        state.withLock { state in state.itemsBySKU[sku].flatMap { state.items[$0] } }
    }

    package func item(id: String) -> CatalogueItem? {
        state.withLock { $0.items[id] }
    }

    /// Zoho batches sealed and not settled, oldest first.
    public var zohoBatches: [ZohoBatch] {
        state.withLock { $0.zohoBatches.values.sorted { ($0.sealedAt, $0.id) < ($1.sealedAt, $1.id) } }
    }

    /// How many Zoho batches are sealed and not settled.
    package var zohoBatchCount: Int { state.withLock { $0.zohoBatches.count } }

    package func zohoBatch(_ id: String) -> ZohoBatch? {
        state.withLock { $0.zohoBatches[id] }
    }

    package func lookup(_ id: String) -> LookupJob? {
        state.withLock { $0.lookups[id] }
    }

    /// Up to `limit` jobs of `kind` due by `now` (milliseconds) and not in `excluding`, the
    /// longest waiting first; the earliest time a job not due yet falls due; and the generation
    /// of the jobs seen.
    package func dueLookups(
        _ kind: LookupJob.Kind, now: Int64, limit: Int, excluding: Set<String>
    ) -> (jobs: [LookupJob], nextDue: Int64?, generation: Int) {
        state.withLock { state in
            var due: [LookupJob] = []
            var nextDue: Int64?
            for job in state.lookups.values where job.kind == kind && !excluding.contains(job.id) {
                if job.notBefore <= now {
                    due.append(job)
                } else {
                    nextDue = min(nextDue ?? job.notBefore, job.notBefore)
                }
            }
            let first = due.sorted { ($0.receivedAt, $0.id) < ($1.receivedAt, $1.id) }.prefix(limit)
            return (Array(first), nextDue, state.lookupGeneration)
        }
    }

    /// How often look-up jobs were stored; a change means there may be new work.
    package var lookupGeneration: Int { state.withLock { $0.lookupGeneration } }

    /// How many look-up jobs wait.
    package var lookupCount: Int { state.withLock { $0.lookups.count } }

    /// Waiting jobs, the longest waiting first.
    package func lookups(limit: Int) -> [LookupJob] {
        state.withLock { state in Array(state.lookups.values.sorted { ($0.receivedAt, $0.id) < ($1.receivedAt, $1.id) }.prefix(limit)) }
    }

    /// How many look-up jobs wait, and the arrival of the oldest (milliseconds since 1970).
    package var lookupBacklog: (count: Int, oldest: Int64?) {
        state.withLock { ($0.lookups.count, $0.lookups.values.map(\.receivedAt).min()) }
    }

    // MARK: Changes, once stored

    /// Signalled when look-up jobs are stored: idle look-up workers wait on it.
    package let lookupsStored = CommitSignal()

    package func commit(_ stage: InboxStage) {
        var growth = grownDeliveries(adding: stage.deliveries.count)
        var replaced = Growth()
        state.withLock { state in
            growth.install(into: &state, keeping: &replaced)
            assert(state.hasRoom(forDeliveries: stage.deliveries.count), "delivery ids grown under the lock")
            for (fingerprint, _, expiresAt) in stage.deliveries where state.deliveries.insert(fingerprint).inserted {
                state.deliveryOrder.append((fingerprint, expiresAt))
            }
            while state.deliveries.count > maxDeliveries, state.deliveryHead < state.deliveryOrder.count {
                state.deliveries.remove(state.deliveryOrder[state.deliveryHead].0)
                state.deliveryHead += 1
            }
            for letter in stage.deadLetters { state.deadLetters[letter.id] = letter }
            for id in stage.removedDeadLetters { state.deadLetters[id] = nil }
            for id in stage.removedZohoBatches { state.zohoBatches[id] = nil }
            for id in stage.removedLookups { state.lookups[id] = nil }
            for job in stage.lookups { state.lookups[job.id] = job }
            if !stage.lookups.isEmpty { state.lookupGeneration += 1 }
            for batch in stage.zohoBatches { state.zohoBatches[batch.id] = batch }
            for (row, modifiedAt) in stage.corrections { state.corrections[row] = modifiedAt }
            for item in stage.items {
                if let old = state.items[item.itemID], state.itemsBySKU[old.sku] == item.itemID {
                    state.itemsBySKU[old.sku] = nil
                }
                state.items[item.itemID] = item
                state.itemsBySKU[item.sku] = item.itemID
            }
        }
        if !stage.lookups.isEmpty { lookupsStored.signal() }
    }

    /// Forgets delivery ids whose retention ended.
    package func expire(nowSeconds: Int64) {
        state.withLock { state in
            while state.deliveryHead < state.deliveryOrder.count, state.deliveryOrder[state.deliveryHead].1 <= nowSeconds {
                state.deliveries.remove(state.deliveryOrder[state.deliveryHead].0)
                state.deliveryHead += 1
            }
        }
        var growth = grownDeliveries(adding: 0)
        var replaced = Growth()
        state.withLock { growth.install(into: &$0, keeping: &replaced) }
    }

    // MARK: Growing the delivery ids

    /// Delivery-id tables made outside the lock, to be swapped in under it.
    package struct Growth {
        package var deliveries: Set<Fingerprint>?
        /// The ids in storage order, without the forgotten ones at the head.
        package var order: [(Fingerprint, Int64)]?

        /// Swaps the grown tables in; the ones they replace go to `replaced`, to be freed after
        /// the lock too. What stays in `state` is referenced there alone, so changing it copies
        /// nothing.
        package mutating func install(into state: inout State, keeping replaced: inout Growth) {
            if let deliveries {
                self.deliveries = nil
                replaced.deliveries = state.deliveries
                state.deliveries = deliveries
            }
            if let order {
                self.order = nil
                replaced.order = state.deliveryOrder
                state.deliveryOrder = order
                state.deliveryHead = 0
            }
        }
    }

    /// Grows the delivery-id tables ahead of `incoming` more ids, and drops forgotten ids from the
    /// head of the order once they are half of it.
    ///
    /// Growing rehashes or copies every id: up to two million of them. HTTP handlers take the
    /// lock for every webhook, so the work happens here, on copies, without it; the writer is the
    /// only thread that changes the state, so nothing changes between the copy and the swap.
    package func grownDeliveries(adding incoming: Int) -> Growth {
        // References, not copies: both stay shared with the state until this returns.
        let (deliveries, order, head) = state.withLock { ($0.deliveries, $0.deliveryOrder, $0.deliveryHead) }
        var growth = Growth()
        if deliveries.count + incoming > deliveries.capacity {
            // Shared, so this builds new storage and leaves the state's alone.
            var grown = deliveries
            grown.reserveCapacity(max(2 * deliveries.capacity, deliveries.count + incoming, 64))
            growth.deliveries = grown
        }
        if order.count + incoming > order.capacity || (head > 4096 && head * 2 > order.count) {
            var grown: [(Fingerprint, Int64)] = []
            grown.reserveCapacity(max(2 * (order.count - head + incoming), 64))
            grown.append(contentsOf: order[head...])
            growth.order = grown
        }
        return growth
    }

    /// Replaces everything with what Redis holds.
    package func replace(with snapshot: InboxSnapshot, nowSeconds: Int64) throws {
        var fresh = State()
        for (id, expiresAt) in snapshot.deliveries.sorted(by: { $0.expiresAt < $1.expiresAt }) where expiresAt > nowSeconds {
            guard let separator = id.firstIndex(of: ":") else { continue }
            let name = String(id[..<separator])
            let rest = String(id[id.index(after: separator)...])
            let fingerprint: Fingerprint
            if let channel = Channel(name: name) {
                fingerprint = Fingerprint(channel: channel, deliveryID: rest)
            } else if name == "zoho" {
                fingerprint = Fingerprint(zohoAdjustmentID: rest)
            } else {
                continue
            }
            if fresh.deliveries.insert(fingerprint).inserted { fresh.deliveryOrder.append((fingerprint, expiresAt)) }
        }
        while fresh.deliveries.count > maxDeliveries, fresh.deliveryHead < fresh.deliveryOrder.count {
            fresh.deliveries.remove(fresh.deliveryOrder[fresh.deliveryHead].0)
            fresh.deliveryHead += 1
        }
        for (id, record) in snapshot.deadLetters {
            fresh.deadLetters[id] = try DeadLetter(record: record, id: id)
        }
        for (row, record) in snapshot.corrections {
            guard let modifiedAt = Int64(String(decoding: record, as: UTF8.self)) else {
                throw CorruptRecordError(description: "the Zoho correction time of a row does not read")
            }
            fresh.corrections[row] = modifiedAt
        }
        for (itemID, record) in snapshot.items {
            let item = try CatalogueItem(record: record, itemID: itemID)
            fresh.items[itemID] = item
            fresh.itemsBySKU[item.sku] = itemID
        }
        for (id, record) in snapshot.zohoBatches {
            do {
                fresh.zohoBatches[id] = try ZohoBatch(record: record)
            } catch {
                throw CorruptRecordError(description: "bad Zoho batch \(id)")
            }
        }
        for (id, record) in snapshot.lookups {
            do {
                fresh.lookups[id] = try LookupJob(record: record)
            } catch {
                throw CorruptRecordError(description: "bad look-up job \(id)")
            }
        }
        state.withLock { $0 = fresh }
    }
}

/// Inbox changes staged with a batch; they reach the `Inbox` once Redis stored the batch.
package struct InboxStage {
    package var deliveries: [(Inbox.Fingerprint, String, Int64)] = []
    package var deadLetters: [DeadLetter] = []
    package var removedDeadLetters: [String] = []
    package var items: [CatalogueItem] = []
    package var zohoBatches: [ZohoBatch] = []
    package var removedZohoBatches: [String] = []
    package var lookups: [LookupJob] = []
    package var removedLookups: [String] = []
    /// Absolute Zoho corrections applied: the row (`item 0x1F location`) and the record's
    /// modification time.
    package var corrections: [(String, Int64)] = []

    package var isEmpty: Bool {
        deliveries.isEmpty && deadLetters.isEmpty && removedDeadLetters.isEmpty && items.isEmpty && zohoBatches.isEmpty
            && removedZohoBatches.isEmpty && lookups.isEmpty && removedLookups.isEmpty && corrections.isEmpty
    }

    package mutating func append(_ other: InboxStage) {
        deliveries += other.deliveries
        deadLetters += other.deadLetters
        removedDeadLetters += other.removedDeadLetters
        items += other.items
        zohoBatches += other.zohoBatches
        removedZohoBatches += other.removedZohoBatches
        lookups += other.lookups
        removedLookups += other.removedLookups
        corrections += other.corrections
    }

    package var writes: InboxWrites {
        var writes = InboxWrites()
        writes.deliveries = deliveries.map { ($0.1, $0.2) }
        writes.deadLetters = deadLetters.map { ($0.id, $0.record) }
        writes.removedDeadLetters = removedDeadLetters
        writes.items = items.map { ($0.itemID, $0.record) }
        writes.zohoBatches = zohoBatches.map { ($0.id, $0.record) }
        writes.removedZohoBatches = removedZohoBatches
        writes.lookups = lookups.map { ($0.id, $0.record) }
        writes.removedLookups = removedLookups
        writes.corrections = corrections.map { ($0.0, Array(String($0.1).utf8)) }
        return writes
    }
}

/// A stored record that does not read back.
package struct CorruptRecordError: Error, CustomStringConvertible {
    package var description: String
}

extension CatalogueItem {
    /// `sku 0x1F location 0x1E location…`
    package var record: [UInt8] {
        var bytes = Array(sku.utf8)
        bytes.append(0x1F)
        for (index, location) in locations.enumerated() {
            if index > 0 { bytes.append(0x1E) }
            bytes += Array(location.utf8)
        }
        return bytes
    }

    package init(record: [UInt8], itemID: String) throws {
        guard let separator = record.firstIndex(of: 0x1F) else { throw CorruptRecordError(description: "bad catalogue item \(itemID)") }
        self.itemID = itemID
        self.sku = String(decoding: record[..<separator], as: UTF8.self)
        self.locations = record[(separator + 1)...].split(separator: 0x1E).map { String(decoding: $0, as: UTF8.self) }
    }
}

extension DeadLetter {
    private struct Stored: Codable {
        package var channel: String
        package var received_at: Int64
        package var code: String
        package var message: String
        package var field: String?
        package var headers: [String: String]
        package var body: String
        package var replays: Int
    }

    package var record: [UInt8] {
        let stored = Stored(
            channel: channel, received_at: receivedAt, code: code, message: message, field: field, headers: headers,
            body: Data(body).base64EncodedString(), replays: replays)
        return Array((try? JSONEncoder().encode(stored)) ?? Data())
    }

    package init(record: [UInt8], id: String) throws {
        let stored = try JSONDecoder().decode(Stored.self, from: Data(record))
        guard let body = Data(base64Encoded: stored.body) else { throw CorruptRecordError(description: "bad dead letter \(id)") }
        self.init(
            id: id, channel: stored.channel, receivedAt: stored.received_at, code: stored.code, message: stored.message,
            field: stored.field, headers: stored.headers, body: Array(body), replays: stored.replays)
    }
}
