/// Maps names to dense 32-bit ids, so that hot structures hold integers instead of strings.
///
/// Names are told apart by their bytes, as Redis and the byte-keyed line and listing tables tell
/// them apart: `é` and `e` followed by U+0301 are two ids, which Swift's `String` equality (by
/// Unicode equivalence) would make one.
struct Interner<Name: ExactName> {
    private(set) var names: ContiguousArray<Name> = []
    private var ids: [Exact<Name>: UInt32] = [:]

    subscript(name: Name) -> UInt32? { ids[Exact(name)] }

    subscript(id: UInt32) -> Name { names[Int(id)] }

    var count: Int { names.count }

    mutating func intern(_ name: Name) -> UInt32 {
        if let id = ids[Exact(name)] { return id }
        let id = UInt32(names.count)
        names.append(name)
        ids[Exact(name)] = id
        return id
    }

    mutating func reserveCapacity(_ capacity: Int) {
        names.reserveCapacity(capacity)
        ids.reserveCapacity(capacity)
    }
}

/// A name that can be compared and hashed by its exact bytes.
protocol ExactName {
    func exactlyEquals(_ other: Self) -> Bool
    func hashExactly(into hasher: inout Hasher)
}

/// A name as a dictionary key, by its exact bytes.
struct Exact<Name: ExactName>: Hashable {
    let name: Name

    init(_ name: Name) {
        self.name = name
    }

    static func == (lhs: Exact, rhs: Exact) -> Bool { lhs.name.exactlyEquals(rhs.name) }

    func hash(into hasher: inout Hasher) { name.hashExactly(into: &hasher) }
}

extension String: ExactName {
    func exactlyEquals(_ other: String) -> Bool {
        let (mine, theirs) = (utf8, other.utf8)
        guard mine.count == theirs.count else { return false }
        if mine.isEmpty { return true }
        // Native strings hold their bytes in one piece: compare them at once, not byte by byte.
        let equal = mine.withContiguousStorageIfAvailable { a in
            theirs.withContiguousStorageIfAvailable { b in memcmpEqual(a.baseAddress!, UnsafeRawPointer(b.baseAddress!), a.count) }
        }
        return (equal ?? nil) ?? mine.elementsEqual(theirs)
    }

    func hashExactly(into hasher: inout Hasher) {
        hasher.combine(utf8.count)
        let hashed: Void? = utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if hashed == nil {
            for byte in utf8 { hasher.combine(byte) }
        }
    }
}

extension ListingKey: ExactName {
    func exactlyEquals(_ other: ListingKey) -> Bool { channel == other.channel && listingID.exactlyEquals(other.listingID) }

    func hashExactly(into hasher: inout Hasher) {
        hasher.combine(channel)
        listingID.hashExactly(into: &hasher)
    }
}
