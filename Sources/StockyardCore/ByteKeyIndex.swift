/// An open-addressing index from short byte strings to dense ids, so that hot paths can look up
/// a key straight from the bytes of an incoming id, without building a `String` or hashing
/// with SipHash.
///
/// A slot holds the id and the high half of the key's hash, so a probe passes over other keys
/// without reading their entries; an entry keeps a key of up to 24 bytes inline, so a hit reads
/// one slot and one entry.
import CStockyardPrefetch

struct ByteKeyIndex {
    private var arena: ContiguousArray<UInt8> = []
    private var entries: ContiguousArray<Entry> = []
    /// Each slot: the id + 1 in the low half (0: empty), the hash's high half in the high half.
    private var slots: ContiguousArray<UInt64>
    private var mask: Int

    /// Keys up to this long are kept in the entry itself.
    static let inlineLength = 24

    private struct Entry {
        /// The key's bytes, zero-padded, when it is short; its first 24 bytes otherwise.
        var words: (UInt64, UInt64, UInt64)
        var length: UInt32
        /// Where a long key starts in the arena.
        var offset: UInt32
    }

    init(capacity: Int = 64) {
        var size = 16
        while size < capacity * 10 / 7 { size <<= 1 }
        slots = ContiguousArray(repeating: 0, count: size)
        mask = size - 1
    }

    var count: Int { entries.count }

    mutating func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> UInt32? {
        let tag = hash >> 32
        let words = Self.leadingWords(key)
        var slot = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let value = slots[slot]
                if value == 0 { return nil }
                if value >> 32 == tag {
                    let id = Int(UInt32(truncatingIfNeeded: value) - 1)
                    if matches(entries[id], key, words) { return UInt32(id) }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Starts fetching the slot a key's hash lands on.
    @inline(__always)
    mutating func prefetchSlot(hash: UInt64) {
        slots.withUnsafeBufferPointer { stockyard_prefetch($0.baseAddress! + (Int(truncatingIfNeeded: hash) & mask)) }
    }

    /// Starts fetching the entry that the slot a key's hash lands on points to, when the slot's
    /// tag matches; returns that id, which may still be another key's.
    @inline(__always)
    mutating func prefetchEntry(hash: UInt64) -> UInt32? {
        let value = slots[Int(truncatingIfNeeded: hash) & mask]
        guard value != 0, value >> 32 == hash >> 32 else { return nil }
        let id = Int(UInt32(truncatingIfNeeded: value) - 1)
        entries.withUnsafeBufferPointer { stockyard_prefetch($0.baseAddress! + id) }
        return UInt32(id)
    }

    /// Adds a key that is not present; its id is the number of keys before it.
    mutating func insert(_ key: UnsafeRawBufferPointer, hash: UInt64) -> UInt32 {
        if (entries.count + 1) * 10 > slots.count * 7 { grow() }
        let id = UInt32(entries.count)
        var offset: UInt32 = 0
        if key.count > Self.inlineLength {
            offset = UInt32(arena.count)
            arena.append(contentsOf: key)
        }
        entries.append(Entry(words: Self.leadingWords(key), length: UInt32(key.count), offset: offset))
        place(id, hash: hash)
        return id
    }

    /// The key's first 24 bytes as three words, zero-padded.
    @inline(__always)
    private static func leadingWords(_ key: UnsafeRawBufferPointer) -> (UInt64, UInt64, UInt64) {
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &words) { target in
            guard let base = key.baseAddress else { return }
            target.baseAddress!.copyMemory(from: base, byteCount: min(key.count, inlineLength))
        }
        return words
    }

    @inline(__always)
    private func matches(_ entry: Entry, _ key: UnsafeRawBufferPointer, _ words: (UInt64, UInt64, UInt64)) -> Bool {
        guard Int(entry.length) == key.count, entry.words == words else { return false }
        if key.count <= Self.inlineLength { return true }
        return arena.withUnsafeBufferPointer { bytes in
            memcmpEqual(bytes.baseAddress! + Int(entry.offset), key.baseAddress!, key.count)
        }
    }

    private func hash(of id: Int) -> UInt64 {
        let entry = entries[id]
        if entry.length <= UInt32(Self.inlineLength) {
            var words = entry.words
            return withUnsafeBytes(of: &words) { LineTable.hash(UnsafeRawBufferPointer(rebasing: $0[..<Int(entry.length)])) }
        }
        return arena.withUnsafeBytes { bytes in
            LineTable.hash(UnsafeRawBufferPointer(rebasing: bytes[Int(entry.offset)..<Int(entry.offset + entry.length)]))
        }
    }

    private mutating func place(_ id: UInt32, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = (hash >> 32) << 32 | UInt64(id + 1)
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = .zeroed(count: size)
        mask = size - 1
        for id in entries.indices { place(UInt32(id), hash: hash(of: id)) }
    }
}
