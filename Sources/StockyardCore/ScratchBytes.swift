/// A fixed buffer for building one key at a time on the hot path, without the generic
/// machinery of `Array` appends. Its owner frees it.
struct ScratchBytes {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    func free() { base.deallocate() }

    @inline(__always) mutating func reset() { count = 0 }

    @inline(__always) mutating func append(_ byte: UInt8) {
        precondition(count < capacity, "key longer than the scratch buffer")
        base[count] = byte
        count += 1
    }

    /// Appends a string's UTF-8 bytes.
    @inline(__always) mutating func append(_ text: String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            precondition(count + bytes.count <= capacity, "key longer than the scratch buffer")
            (base + count).update(from: bytes.baseAddress!, count: bytes.count)
            count += bytes.count
        }
        if copied == nil {
            for byte in text.utf8 { append(byte) }
        }
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Writes a listing's key: `channel byte, listing id`.
    @inline(__always)
    mutating func writeListingKey(_ channel: Channel, _ listingID: String) {
        reset()
        append(channel.rawValue)
        append(listingID)
    }

    /// Writes an order line's key: `channel byte, order id, 0x1F, line id`.
    @inline(__always)
    mutating func writeLineKey(_ channel: Channel, _ orderID: String, _ lineID: String) {
        reset()
        append(channel.rawValue)
        append(orderID)
        append(0x1F)
        append(lineID)
    }
}
