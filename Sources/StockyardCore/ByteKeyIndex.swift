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
    private var slots: TaggedSlots

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
        slots = TaggedSlots(capacity: capacity)
    }

    var count: Int { entries.count }

    mutating func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> UInt32? {
        let words = Self.leadingWords(key)
        return slots.first(hash: hash) { matches(entries[$0], key, words) }.map(UInt32.init)
    }

    /// Starts fetching the slot a key's hash lands on.
    @inline(__always)
    mutating func prefetchSlot(hash: UInt64) {
        slots.prefetch(hash: hash)
    }

    /// Starts fetching the entry that the slot a key's hash lands on points to, when the slot's
    /// tag matches; returns that id, which may still be another key's.
    @inline(__always)
    mutating func prefetchEntry(hash: UInt64) -> UInt32? {
        guard let id = slots.guess(hash: hash) else { return nil }
        entries.withUnsafeBufferPointer { stockyard_prefetch($0.baseAddress! + id) }
        return UInt32(id)
    }

    /// Adds a key that is not present; its id is the number of keys before it.
    mutating func insert(_ key: UnsafeRawBufferPointer, hash: UInt64) -> UInt32 {
        if slots.isFull(holding: entries.count) { grow() }
        let id = UInt32(entries.count)
        var offset: UInt32 = 0
        if key.count > Self.inlineLength {
            offset = UInt32(arena.count)
            arena.append(contentsOf: key)
        }
        entries.append(Entry(words: Self.leadingWords(key), length: UInt32(key.count), offset: offset))
        slots.place(Int(id), hash: hash)
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

    private mutating func grow() {
        slots.doubleAndClear()
        for id in entries.indices { slots.place(id, hash: hash(of: id)) }
    }
}
