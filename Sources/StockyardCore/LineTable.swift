/// The stored state of one order line: 32 bytes, no references.
public struct LineRecord: Sendable, Hashable {
    /// Where the line's key starts in the table's key arena.
    var keyOffset: UInt32
    var keyLength: UInt16
    /// False once the line has expired or its insertion was rolled back.
    public internal(set) var live: Bool
    var hash: UInt32
    /// The consumption (listing, location and units per line unit) the line draws on.
    public internal(set) var consumption: UInt32
    public internal(set) var quantity: Int32
    public internal(set) var version: Int64
    /// Seconds since 1970 when the line last changed.
    public internal(set) var touched: UInt32
}

/// An open-addressing hash table of order lines keyed by their bytes
/// (`channel byte, order id, 0x1F, line id`), stored in one arena.
///
/// Built for tens of millions of lines: a line costs its 32-byte record, its key bytes and
/// about 6 bytes of slot; nothing is allocated per line. Expired lines stay as tombstones
/// until `compact()`.
struct LineTable {
    private(set) var arena: ContiguousArray<UInt8> = []
    private(set) var records: ContiguousArray<LineRecord> = []
    /// Each slot: the record index + 1 in the low half (0: empty), the key's hash tag in the high
    /// half, so that a probe rejects most other keys without touching their records.
    private var slots: ContiguousArray<UInt64>
    private var mask: Int
    private(set) var deadCount = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 10 / 7 { size <<= 1 }
        slots = ContiguousArray(repeating: 0, count: size)
        mask = size - 1
        records.reserveCapacity(capacity)
        arena.reserveCapacity(capacity * 24)
    }

    var liveCount: Int { records.count - deadCount }

    /// FNV-1a over the key, with a final avalanche.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        return h
    }

    /// The record index for a key, live or not.
    func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> UInt32? {
        let tag = UInt32(truncatingIfNeeded: hash >> 32)
        var slot = Int(truncatingIfNeeded: hash) & mask
        return arena.withUnsafeBufferPointer { arenaBuffer in
            while true {
                let entry = slots[slot]
                if entry == 0 { return nil }
                if UInt32(truncatingIfNeeded: entry >> 32) != tag {
                    slot = (slot + 1) & mask
                    continue
                }
                let index = Int(UInt32(truncatingIfNeeded: entry) - 1)
                let record = records[index]
                if Int(record.keyLength) == key.count {
                    let start = Int(record.keyOffset)
                    if key.count == 0
                        || memcmpEqual(arenaBuffer.baseAddress! + start, key.baseAddress!, key.count)
                    {
                        return UInt32(index)
                    }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Adds a new line; the key must not be present.
    mutating func insert(
        _ key: UnsafeRawBufferPointer,
        hash: UInt64,
        consumption: UInt32,
        quantity: Int32,
        version: Int64,
        touched: UInt32
    ) -> UInt32 {
        if (records.count + 1) * 10 > slots.count * 7 {
            grow()
        }
        let offset = UInt32(arena.count)
        arena.append(contentsOf: key)
        let record = LineRecord(
            keyOffset: offset,
            keyLength: UInt16(key.count),
            live: true,
            hash: UInt32(truncatingIfNeeded: hash >> 32),
            consumption: consumption,
            quantity: quantity,
            version: version,
            touched: touched
        )
        let index = UInt32(records.count)
        records.append(record)
        place(index: index, hash: hash)
        return index
    }

    /// Gives a line (live or expired) a new state, making it live.
    mutating func revive(_ index: UInt32, consumption: UInt32, quantity: Int32, version: Int64, touched: UInt32) {
        var record = self[index]
        record.live = true
        record.consumption = consumption
        record.quantity = quantity
        record.version = version
        record.touched = touched
        self[index] = record
    }

    subscript(index: UInt32) -> LineRecord {
        get { records[Int(index)] }
        set {
            let wasLive = records[Int(index)].live
            records[Int(index)] = newValue
            if wasLive != newValue.live { deadCount += newValue.live ? -1 : 1 }
        }
    }

    /// The key bytes of a line.
    func withKey<R>(_ index: UInt32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let record = records[Int(index)]
        return try arena.withUnsafeBytes { bytes in
            try body(UnsafeRawBufferPointer(rebasing: bytes[Int(record.keyOffset)..<(Int(record.keyOffset) + Int(record.keyLength))]))
        }
    }

    /// Rebuilds the table without dead lines. Record indices change.
    mutating func compact() {
        var fresh = LineTable(capacity: max(liveCount, 1024))
        fresh.arena.reserveCapacity(arena.count)
        for index in records.indices where records[index].live {
            let record = records[index]
            withKey(UInt32(index)) { key in
                let newIndex = fresh.insert(
                    key, hash: LineTable.hash(key), consumption: record.consumption,
                    quantity: record.quantity, version: record.version, touched: record.touched)
                _ = newIndex
            }
        }
        self = fresh
    }

    private mutating func place(index: UInt32, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = (hash >> 32) << 32 | UInt64(index + 1)
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = ContiguousArray(repeating: 0, count: size)
        mask = size - 1
        for index in records.indices {
            let hash = withKey(UInt32(index)) { LineTable.hash($0) }
            place(index: UInt32(index), hash: hash)
        }
    }

    /// Approximate bytes held.
    var memoryFootprint: Int {
        arena.capacity + records.capacity * MemoryLayout<LineRecord>.stride + slots.capacity * 8
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    let b = b.assumingMemoryBound(to: UInt8.self)
    var index = 0
    while index + 8 <= count {
        if UnsafeRawPointer(a + index).loadUnaligned(as: UInt64.self)
            != UnsafeRawPointer(b + index).loadUnaligned(as: UInt64.self)
        {
            return false
        }
        index += 8
    }
    while index < count {
        if a[index] != b[index] { return false }
        index += 1
    }
    return true
}
