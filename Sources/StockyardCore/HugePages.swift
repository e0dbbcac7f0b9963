#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Asks the kernel to back the ledger's large tables with transparent huge pages (2 MiB) where it
/// allows them only on request (`madvise` mode, Debian's default). Lookups land at random places in
/// tables of hundreds of megabytes; with 4 KiB pages nearly each one also misses the TLB, and
/// filling a table takes a page fault per 4 KiB. Only a hint: where the kernel declines, or on
/// other systems, nothing changes.
enum HugePages {
    static let pageSize = 2 << 20

    /// Advises huge pages for the whole 2 MiB pages inside a region.
    static func advise(_ start: UnsafeRawPointer, byteCount: Int) {
        #if os(Linux) && (canImport(Glibc) || canImport(Musl))
        guard byteCount >= 2 * pageSize else { return }
        let mask = UInt(pageSize - 1)
        let first = (UInt(bitPattern: start) + mask) & ~mask
        let end = (UInt(bitPattern: start) + UInt(byteCount)) & ~mask
        guard end > first, let aligned = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(aligned, Int(end - first), MADV_HUGEPAGE)
        #endif
    }
}

extension HugePages {
    /// Has the kernel back a region with memory now (`MADV_POPULATE_WRITE`), so that filling it
    /// later takes no page faults. Only a hint, like `advise`.
    static func populate(_ start: UnsafeRawPointer, byteCount: Int) {
        #if os(Linux) && (canImport(Glibc) || canImport(Musl))
        let mask = UInt(4095)
        let first = (UInt(bitPattern: start) + mask) & ~mask
        let end = (UInt(bitPattern: start) + UInt(byteCount)) & ~mask
        guard end > first, let aligned = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(aligned, Int(end - first), 23)  // MADV_POPULATE_WRITE, Linux 5.14 and later
        #endif
    }
}

extension ContiguousArray {
    /// Advises huge pages for the array's whole allocation (its capacity, not only its count).
    func adviseHugePages() {
        withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            HugePages.advise(UnsafeRawPointer(base), byteCount: capacity * MemoryLayout<Element>.stride)
        }
    }

    /// Backs the array's whole allocation with memory now, so that appends up to its capacity
    /// take no page faults.
    func populateCapacity() {
        withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            HugePages.populate(UnsafeRawPointer(base), byteCount: capacity * MemoryLayout<Element>.stride)
        }
    }
}

extension ContiguousArray where Element: FixedWidthInteger {
    /// `count` zeros, in an allocation advised for huge pages before it is first written.
    static func zeroed(count: Int) -> ContiguousArray {
        var array = ContiguousArray()
        array.reserveCapacity(count)
        array.adviseHugePages()
        array.append(contentsOf: repeatElement(0, count: count))
        return array
    }
}
