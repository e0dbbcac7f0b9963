import CStockyardPrefetch

/// The slots of the ledger's open-addressing tables (order lines, listings): each holds an
/// index + 1 in its low half (0: empty) and the high half of its key's hash in its high half, so
/// that a probe passes over other keys without reading them. Linear probing, at most 70 % full.
struct TaggedSlots {
    private var slots: ContiguousArray<UInt64>
    private var mask: Int

    /// Room for `capacity` keys.
    init(capacity: Int) {
        var size = 16
        while size < capacity * 10 / 7 { size <<= 1 }
        slots = .zeroed(count: size)
        mask = size - 1
    }

    /// Whether one more key would take the slots past 70 % full.
    func isFull(holding count: Int) -> Bool { (count + 1) * 10 > slots.count * 7 }

    /// Empties the slots and doubles their number; the caller places every key again.
    mutating func doubleAndClear() {
        slots = .zeroed(count: slots.count * 2)
        mask = slots.count - 1
    }

    /// The first index, in probe order, whose tag matches the hash and for which `matches` holds;
    /// nil at the first empty slot.
    @inline(__always)
    func first(hash: UInt64, where matches: (Int) -> Bool) -> Int? {
        let tag = hash >> 32
        var slot = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let value = slots[slot]
                if value == 0 { return nil }
                if value >> 32 == tag, matches(Int(UInt32(truncatingIfNeeded: value) - 1)) {
                    return Int(UInt32(truncatingIfNeeded: value) - 1)
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Puts an index in the first empty slot of its hash's probe sequence.
    mutating func place(_ index: Int, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = (hash >> 32) << 32 | UInt64(index + 1)
    }

    /// Starts fetching the slot a hash lands on.
    @inline(__always)
    func prefetch(hash: UInt64) {
        slots.withUnsafeBufferPointer { stockyard_prefetch($0.baseAddress! + (Int(truncatingIfNeeded: hash) & mask)) }
    }

    /// The index in the slot a hash lands on when that slot's tag matches: most likely the key's
    /// own, but only a guess (for fetching ahead).
    @inline(__always)
    func guess(hash: UInt64) -> Int? {
        let value = slots[Int(truncatingIfNeeded: hash) & mask]
        guard value != 0, value >> 32 == hash >> 32 else { return nil }
        return Int(UInt32(truncatingIfNeeded: value) - 1)
    }

    /// Bytes held.
    var memoryFootprint: Int { slots.capacity * 8 }
}
