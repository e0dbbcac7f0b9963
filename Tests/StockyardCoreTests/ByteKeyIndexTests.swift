@testable import StockyardCore
import Testing

/// The listing index finds every key it holds, short (inline) or long (in the arena), also after
/// it grew, and tells apart keys that differ only in length or in trailing zero bytes.
@Suite struct ByteKeyIndexTests {
    static func keys() -> [[UInt8]] {
        var keys: [[UInt8]] = []
        for length in [0, 1, 7, 8, 23, 24, 25, 48, 200] {
            keys.append(Array(repeating: 0x41, count: length))
            keys.append(Array(repeating: 0x41, count: length) + [0])
            keys.append(Array(repeating: 0x41, count: length) + [0, 0])
        }
        for serial in 0..<300 {
            keys.append(Array("listing-with-a-long-shared-prefix-\(serial)".utf8))
            keys.append(Array("s\(serial)".utf8))
        }
        return keys
    }

    @Test func findsEveryKeyAfterGrowing() {
        var index = ByteKeyIndex(capacity: 4)
        let keys = Self.keys()
        for (id, key) in keys.enumerated() {
            key.withUnsafeBytes { bytes in
                #expect(index.find(bytes, hash: LineTable.hash(bytes)) == nil)
                #expect(index.insert(bytes, hash: LineTable.hash(bytes)) == UInt32(id))
            }
        }
        #expect(index.count == keys.count)
        for (id, key) in keys.enumerated() {
            key.withUnsafeBytes { bytes in
                #expect(index.find(bytes, hash: LineTable.hash(bytes)) == UInt32(id))
            }
        }
        let absent = Array("listing-with-a-long-shared-prefix-300".utf8)
        absent.withUnsafeBytes { bytes in
            #expect(index.find(bytes, hash: LineTable.hash(bytes)) == nil)
        }
    }
}
