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

/// What the writer stages besides the ledger, once Redis has stored it: recent delivery ids,
/// dead letters, the item catalogue, the Zoho outbox and the look-up queue, one type each
/// (`Stores/`), under one lock so that a commit shows whole to readers.
///
/// Only the writer changes it, after Redis has stored the change; HTTP handlers read it.
public final class Inbox: Sendable {
    package typealias Fingerprint = DeliveryFingerprint

    package struct State {
        package var deliveries = DeliveryIDs()
        package var deadLetters = DeadLetterStore()
        package var catalogue = Catalogue()
        package var zoho = ZohoOutbox()
        package var lookups = LookupQueue()
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
        state.withLock { $0.deadLetters.list(after: after, limit: limit) }
    }

    package func deadLetter(_ id: String) -> DeadLetter? {
        state.withLock { $0.deadLetters[id] }
    }

    /// Zoho's modification time of the last absolute correction applied to a row, if any.
    package func correctionTime(row: String) -> Int64? {
        state.withLock { $0.zoho.corrections[row] }
    }

    package func item(sku: String) -> CatalogueItem? {
        state.withLock { $0.catalogue.item(sku: sku) }
    }

    package func item(id: String) -> CatalogueItem? {
        state.withLock { $0.catalogue.item(id: id) }
    }

    /// Zoho batches sealed and not settled, oldest first.
    public var zohoBatches: [ZohoBatch] {
        state.withLock { $0.zoho.sortedBatches }
    }

    /// How many Zoho batches are sealed and not settled.
    package var zohoBatchCount: Int { state.withLock { $0.zoho.batches.count } }

    package func zohoBatch(_ id: String) -> ZohoBatch? {
        state.withLock { $0.zoho.batches[id] }
    }

    package func lookup(_ id: String) -> LookupJob? {
        state.withLock { $0.lookups.jobs[id] }
    }

    /// Up to `limit` jobs of `kind` due by `now` (milliseconds) and not in `excluding`, the
    /// longest waiting first; the earliest time a job not due yet falls due; and the generation
    /// of the jobs seen.
    package func dueLookups(
        _ kind: LookupJob.Kind, now: Int64, limit: Int, excluding: Set<String>
    ) -> (jobs: [LookupJob], nextDue: Int64?, generation: Int) {
        state.withLock { $0.lookups.due(kind, now: now, limit: limit, excluding: excluding) }
    }

    /// How often look-up jobs were stored; a change means there may be new work.
    package var lookupGeneration: Int { state.withLock { $0.lookups.generation } }

    /// How many look-up jobs wait.
    package var lookupCount: Int { state.withLock { $0.lookups.count } }

    /// Waiting jobs, the longest waiting first.
    package func lookups(limit: Int) -> [LookupJob] {
        state.withLock { $0.lookups.list(limit: limit) }
    }

    /// How many look-up jobs wait, and the arrival of the oldest (milliseconds since 1970).
    package var lookupBacklog: (count: Int, oldest: Int64?) {
        state.withLock { $0.lookups.backlog }
    }

    // MARK: Changes, once stored

    /// Signalled when look-up jobs are stored: idle look-up workers wait on it.
    package let lookupsStored = CommitSignal()

    package func commit(_ stage: InboxStage) {
        var growth = grownDeliveries(adding: stage.deliveries.count)
        var replaced = DeliveryIDs.Growth()
        state.withLock { state in
            growth.install(into: &state.deliveries, keeping: &replaced)
            assert(state.deliveries.hasRoom(for: stage.deliveries.count), "delivery ids grown under the lock")
            for (fingerprint, _, expiresAt) in stage.deliveries {
                state.deliveries.insert(fingerprint, expiresAt: expiresAt, limit: .max)
            }
            state.deliveries.forgetOldest(beyond: maxDeliveries)
            state.deadLetters.apply(added: stage.deadLetters, removed: stage.removedDeadLetters)
            state.zoho.apply(added: stage.zohoBatches, removed: stage.removedZohoBatches, corrections: stage.corrections)
            state.lookups.apply(added: stage.lookups, removed: stage.removedLookups)
            state.catalogue.apply(stage.items)
        }
        if !stage.lookups.isEmpty { lookupsStored.signal() }
    }

    /// Forgets delivery ids whose retention ended.
    package func expire(nowSeconds: Int64) {
        state.withLock { $0.deliveries.expire(nowSeconds: nowSeconds) }
        var growth = grownDeliveries(adding: 0)
        var replaced = DeliveryIDs.Growth()
        state.withLock { growth.install(into: &$0.deliveries, keeping: &replaced) }
    }

    // MARK: Growing the delivery ids

    /// Grows the delivery-id tables ahead of `incoming` more ids, and drops forgotten ids from the
    /// head of the order once they are half of it.
    ///
    /// Growing rehashes or copies every id: up to two million of them. HTTP handlers take the
    /// lock for every webhook, so the work happens here, on copies, without it; the writer is the
    /// only thread that changes the state, so nothing changes between the copy and the swap.
    package func grownDeliveries(adding incoming: Int) -> DeliveryIDs.Growth {
        // References, not copies: both stay shared with the state until this returns.
        let (ids, order, head) = state.withLock { ($0.deliveries.ids, $0.deliveries.order, $0.deliveries.head) }
        return DeliveryIDs.grown(ids: ids, order: order, head: head, adding: incoming)
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
            fresh.deliveries.insert(fingerprint, expiresAt: expiresAt, limit: .max)
        }
        fresh.deliveries.forgetOldest(beyond: maxDeliveries)
        for (id, record) in snapshot.deadLetters {
            fresh.deadLetters.letters[id] = try DeadLetter(record: record, id: id)
        }
        for (row, record) in snapshot.corrections {
            guard let modifiedAt = Int64(String(decoding: record, as: UTF8.self)) else {
                throw CorruptRecordError(description: "the Zoho correction time of a row does not read")
            }
            fresh.zoho.corrections[row] = modifiedAt
        }
        for (itemID, record) in snapshot.items {
            fresh.catalogue.apply([try CatalogueItem(record: record, itemID: itemID)])
        }
        for (id, record) in snapshot.zohoBatches {
            do {
                fresh.zoho.batches[id] = try ZohoBatch(record: record)
            } catch {
                throw CorruptRecordError(description: "bad Zoho batch \(id)")
            }
        }
        for (id, record) in snapshot.lookups {
            do {
                fresh.lookups.jobs[id] = try LookupJob(record: record)
            } catch {
                throw CorruptRecordError(description: "bad look-up job \(id)")
            }
        }
        state.withLock { $0 = fresh }
    }
}

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
