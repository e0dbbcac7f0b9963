import Crypto
import StockyardCore

/// A 128-bit digest of a channel and a delivery id: what memory keeps of each id.
package struct DeliveryFingerprint: Hashable, Sendable {
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

/// Delivery ids stored lately, so that a redelivery is answered at once: at most a limit of
/// them, the oldest forgotten first, each until its retention ends. The tables are grown outside
/// the inbox's lock (`Growth`), because growing rehashes up to millions of ids.
package struct DeliveryIDs {
    package var ids = Set<DeliveryFingerprint>()
    /// The ids in the order they were stored, with their expiry (seconds).
    package var order: [(DeliveryFingerprint, Int64)] = []
    /// How many of `order`'s first entries are forgotten already.
    package var head = 0

    package init() {}

    package var count: Int { ids.count }

    package func contains(_ fingerprint: DeliveryFingerprint) -> Bool { ids.contains(fingerprint) }

    /// Whether `incoming` more ids fit without growing a table.
    package func hasRoom(for incoming: Int) -> Bool {
        ids.count + incoming <= ids.capacity && order.count + incoming <= order.capacity
    }

    /// Remembers an id until `expiresAt`, then forgets the oldest beyond `limit`.
    package mutating func insert(_ fingerprint: DeliveryFingerprint, expiresAt: Int64, limit: Int) {
        if ids.insert(fingerprint).inserted { order.append((fingerprint, expiresAt)) }
        forgetOldest(beyond: limit)
    }

    package mutating func forgetOldest(beyond limit: Int) {
        while ids.count > limit, head < order.count {
            ids.remove(order[head].0)
            head += 1
        }
    }

    /// Forgets the ids whose retention ended by `nowSeconds`.
    package mutating func expire(nowSeconds: Int64) {
        while head < order.count, order[head].1 <= nowSeconds {
            ids.remove(order[head].0)
            head += 1
        }
    }

    /// Tables made outside the lock, to be swapped in under it.
    package struct Growth {
        package var ids: Set<DeliveryFingerprint>?
        /// The ids in storage order, without the forgotten ones at the head.
        package var order: [(DeliveryFingerprint, Int64)]?

        package init() {}

        /// Swaps the grown tables in; the ones they replace go to `replaced`, to be freed after
        /// the lock too. What stays in `deliveries` is referenced there alone, so changing it
        /// copies nothing.
        package mutating func install(into deliveries: inout DeliveryIDs, keeping replaced: inout Growth) {
            if let ids {
                self.ids = nil
                replaced.ids = deliveries.ids
                deliveries.ids = ids
            }
            if let order {
                self.order = nil
                replaced.order = deliveries.order
                deliveries.order = order
                deliveries.head = 0
            }
        }
    }

    /// Grows the tables of `ids`, `order` and `head` (references, shared with the state) ahead
    /// of `incoming` more ids, and drops forgotten ids from the head of the order once they are
    /// half of it. Shared, so the copies build new storage and leave the state's alone.
    package static func grown(
        ids: Set<DeliveryFingerprint>, order: [(DeliveryFingerprint, Int64)], head: Int, adding incoming: Int
    ) -> Growth {
        var growth = Growth()
        if ids.count + incoming > ids.capacity {
            var grown = ids
            grown.reserveCapacity(max(2 * ids.capacity, ids.count + incoming, 64))
            growth.ids = grown
        }
        if order.count + incoming > order.capacity || (head > 4096 && head * 2 > order.count) {
            var grown: [(DeliveryFingerprint, Int64)] = []
            grown.reserveCapacity(max(2 * (order.count - head + incoming), 64))
            grown.append(contentsOf: order[head...])
            growth.order = grown
        }
        return growth
    }
}
