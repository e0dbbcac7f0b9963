import CStockyardPrefetch

/// The stored state of one order line: 32 bytes, no references (the widest field first, so
/// that the fields pack without padding).
public struct LineRecord: Sendable, Hashable {
    public internal(set) var version: Int64
    /// Where the line's key starts in the table's key arena.
    var keyOffset: UInt32
    /// The listing the line sells (also found through its consumption; kept here for the
    /// duplicate check). `UInt32.max` for a restored line until it changes: then read the
    /// consumption's.
    var listing: UInt32
    /// The consumption (listing, location and units per line unit) the line draws on.
    public internal(set) var consumption: UInt32
    public internal(set) var quantity: Int32
    /// Seconds since 1970 when the line last changed.
    public internal(set) var touched: UInt32
    var keyLength: UInt16
    /// False once the line has expired or its insertion was rolled back.
    public internal(set) var live: Bool
}

/// An open-addressing hash table of order lines keyed by their bytes
/// (`channel byte, order id, 0x1F, line id`), stored in one arena.
///
/// Built for tens of millions of lines: a line costs its 32-byte record, its key bytes and
/// about 6 bytes of slot; nothing is allocated per line. Expired lines stay as tombstones
/// until `compact()`.
///
/// The lookups are `mutating` although they change nothing: the ledger then reaches its table
/// in place, where a non-mutating call would copy the struct and retain its three buffers.
struct LineTable {
    private(set) var arena: ContiguousArray<UInt8> = []
    private(set) var records: ContiguousArray<LineRecord> = []
    private var slots: TaggedSlots
    private(set) var deadCount = 0
    /// Capacities of `records` and `arena` when huge pages were last advised for them.
    private var advisedCapacities = (records: 0, arena: 0)

    init(capacity: Int = 1024) {
        slots = TaggedSlots(capacity: capacity)
        records.reserveCapacity(capacity)
        arena.reserveCapacity(capacity * 24)
        adviseGrownStorage()
    }

    /// Has the kernel back the reserved records and key bytes with memory now.
    func populate() {
        records.populateCapacity()
        arena.populateCapacity()
    }

    /// Advises huge pages for `records` and `arena` after they moved to a larger allocation.
    @inline(__always)
    private mutating func adviseGrownStorage() {
        if records.capacity != advisedCapacities.records {
            records.adviseHugePages()
            advisedCapacities.records = records.capacity
        }
        if arena.capacity != advisedCapacities.arena {
            arena.adviseHugePages()
            advisedCapacities.arena = arena.capacity
        }
    }

    var liveCount: Int { records.count - deadCount }

    /// A per-process seed, so that nobody can choose ids that all land in the same slots.
    static let seed = UInt64.random(in: 1...UInt64.max)

    /// A seeded hash of the key, eight bytes at a time: each word is folded in with a full
    /// 64 × 64 → 128-bit multiply (high half xor low half), then the length.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var h = seed
        let count = key.count
        guard let base = key.baseAddress, count > 0 else { return fold(h, 0xD6E8_FEB8_6659_FD93) }
        var index = 0
        while index + 8 <= count {
            h = fold(h ^ base.loadUnaligned(fromByteOffset: index, as: UInt64.self), 0x9E37_79B9_7F4A_7C15)
            index += 8
        }
        if index < count {
            var tail: UInt64 = 0
            withUnsafeMutableBytes(of: &tail) { $0.baseAddress!.copyMemory(from: base + index, byteCount: count - index) }
            h = fold(h ^ tail, 0x9E37_79B9_7F4A_7C15)
        }
        return fold(h ^ UInt64(count), 0xD6E8_FEB8_6659_FD93)
    }

    @inline(__always)
    private static func fold(_ value: UInt64, _ multiplier: UInt64) -> UInt64 {
        let product = value.multipliedFullWidth(by: multiplier)
        return product.high ^ product.low
    }

    /// Starts fetching the slot a key's hash lands on.
    @inline(__always)
    mutating func prefetchSlot(hash: UInt64) {
        slots.prefetch(hash: hash)
    }

    /// Starts fetching the record that the slot a key's hash lands on points to, when the
    /// slot's tag matches (it is then most likely the key's own); returns that record's index.
    @inline(__always)
    mutating func prefetchRecord(hash: UInt64) -> UInt32? {
        guard let index = slots.guess(hash: hash) else { return nil }
        records.withUnsafeBufferPointer { stockyard_prefetch($0.baseAddress! + index) }
        return UInt32(index)
    }

    /// Starts fetching the key bytes of a record.
    @inline(__always)
    mutating func prefetchKey(_ index: UInt32) {
        guard Int(index) < records.count else { return }
        let offset = Int(records[Int(index)].keyOffset)
        arena.withUnsafeBufferPointer { stockyard_prefetch($0.baseAddress! + offset) }
    }

    /// The record index for a key, live or not.
    mutating func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> UInt32? {
        arena.withUnsafeBufferPointer { arena in
            records.withUnsafeBufferPointer { records in
                slots.first(hash: hash) { index in
                    let record = records[index]
                    return Int(record.keyLength) == key.count
                        && (key.count == 0 || memcmpEqual(arena.baseAddress! + Int(record.keyOffset), key.baseAddress!, key.count))
                }.map(UInt32.init)
            }
        }
    }

    /// Adds a new line; the key must not be present.
    mutating func insert(
        _ key: UnsafeRawBufferPointer,
        hash: UInt64,
        listing: UInt32,
        consumption: UInt32,
        quantity: Int32,
        version: Int64,
        touched: UInt32
    ) -> UInt32 {
        if slots.isFull(holding: records.count) {
            grow()
        }
        let offset = UInt32(arena.count)
        arena.append(contentsOf: key)
        let record = LineRecord(
            version: version,
            keyOffset: offset,
            listing: listing,
            consumption: consumption,
            quantity: quantity,
            touched: touched,
            keyLength: UInt16(key.count),
            live: true
        )
        let index = UInt32(records.count)
        records.append(record)
        adviseGrownStorage()
        slots.place(Int(index), hash: hash)
        return index
    }

    /// Gives a line (live or expired) a new state, making it live.
    mutating func revive(
        _ index: UInt32, listing: UInt32, consumption: UInt32, quantity: Int32, version: Int64, touched: UInt32
    ) {
        var record = self[index]
        record.live = true
        record.listing = listing
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
                    key, hash: LineTable.hash(key), listing: record.listing, consumption: record.consumption,
                    quantity: record.quantity, version: record.version, touched: record.touched)
                _ = newIndex
            }
        }
        self = fresh
    }

    private mutating func grow() {
        slots.doubleAndClear()
        for index in records.indices {
            slots.place(index, hash: withKey(UInt32(index)) { LineTable.hash($0) })
        }
    }

    /// Approximate bytes held.
    var memoryFootprint: Int {
        arena.capacity + records.capacity * MemoryLayout<LineRecord>.stride + slots.memoryFootprint
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
