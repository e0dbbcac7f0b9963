/// An open-addressing index from short byte strings to dense ids, so that hot paths can look up
/// a key straight from the bytes of an incoming id, without building a `String` or hashing
/// with SipHash.
struct ByteKeyIndex {
    private var arena: ContiguousArray<UInt8> = []
    private var entries: ContiguousArray<Entry> = []
    private var slots: ContiguousArray<UInt32>
    private var mask: Int

    private struct Entry {
        var offset: UInt32
        var length: UInt32
        var hash: UInt64
    }

    init(capacity: Int = 64) {
        var size = 16
        while size < capacity * 10 / 7 { size <<= 1 }
        slots = ContiguousArray(repeating: 0, count: size)
        mask = size - 1
    }

    var count: Int { entries.count }

    func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> UInt32? {
        var slot = Int(truncatingIfNeeded: hash) & mask
        return arena.withUnsafeBufferPointer { bytes in
            while true {
                let value = slots[slot]
                if value == 0 { return nil }
                let entry = entries[Int(value - 1)]
                if entry.hash == hash, Int(entry.length) == key.count,
                    key.count == 0 || memcmpEqual(bytes.baseAddress! + Int(entry.offset), key.baseAddress!, key.count)
                {
                    return value - 1
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Adds a key that is not present; its id is the number of keys before it.
    mutating func insert(_ key: UnsafeRawBufferPointer, hash: UInt64) -> UInt32 {
        if (entries.count + 1) * 10 > slots.count * 7 { grow() }
        let id = UInt32(entries.count)
        entries.append(Entry(offset: UInt32(arena.count), length: UInt32(key.count), hash: hash))
        arena.append(contentsOf: key)
        place(id, hash: hash)
        return id
    }

    private mutating func place(_ id: UInt32, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = id + 1
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = ContiguousArray(repeating: 0, count: size)
        mask = size - 1
        for index in entries.indices { place(UInt32(index), hash: entries[index].hash) }
    }
}
