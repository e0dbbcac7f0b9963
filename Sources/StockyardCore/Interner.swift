/// Maps names to dense 32-bit ids, so that hot structures hold integers instead of strings.
struct Interner<Name: Hashable> {
    private(set) var names: ContiguousArray<Name> = []
    private var ids: [Name: UInt32] = [:]

    subscript(name: Name) -> UInt32? { ids[name] }

    subscript(id: UInt32) -> Name { names[Int(id)] }

    var count: Int { names.count }

    mutating func intern(_ name: Name) -> UInt32 {
        if let id = ids[name] { return id }
        let id = UInt32(names.count)
        names.append(name)
        ids[name] = id
        return id
    }

    mutating func reserveCapacity(_ capacity: Int) {
        names.reserveCapacity(capacity)
        ids.reserveCapacity(capacity)
    }
}
