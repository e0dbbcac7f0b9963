import StockyardCore

/// Text encodings of stored values. Ids never contain control characters (the ledger refuses
/// them), so 0x1F separates fields and 0x1E separates records.
enum StoredFormat {
    static let unit: UInt8 = 0x1F
    static let record: UInt8 = 0x1E

    static func split(_ bytes: UnsafeRawBufferPointer, on separator: UInt8) -> [UnsafeRawBufferPointer] {
        var parts: [UnsafeRawBufferPointer] = []
        var start = 0
        for index in 0..<bytes.count where bytes[index] == separator {
            parts.append(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
            start = index + 1
        }
        parts.append(UnsafeRawBufferPointer(rebasing: bytes[start..<bytes.count]))
        return parts
    }

    static func split(_ bytes: [UInt8], on separator: UInt8) -> [[UInt8]] {
        bytes.split(separator: separator, omittingEmptySubsequences: false).map(Array.init)
    }

    static func integer(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard !bytes.isEmpty else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
            guard bytes.count > 1 else { return nil }
        }
        var value: Int64 = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (multiplied, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (added, overflow2) = multiplied.addingReportingOverflow(Int64(byte - 0x30))
            guard !overflow1, !overflow2 else { return nil }
            value = added
            index += 1
        }
        return negative ? -value : value
    }

    static func integer(_ bytes: [UInt8]) -> Int64? {
        bytes.withUnsafeBytes { integer($0) }
    }

    static func text(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    // MARK: Listing keys

    static func listingField(_ key: ListingKey, into writer: inout ArgumentWriter) {
        writer.raw(key.channel.name)
        writer.byte(unit)
        writer.raw(key.listingID)
    }

    static func listingKey(_ bytes: [UInt8]) throws(RedisError) -> ListingKey {
        let parts = split(bytes, on: unit)
        guard parts.count == 2, let channel = Channel(name: text(parts[0])) else {
            throw RedisError(.corruptData, "bad listing key")
        }
        return ListingKey(channel: channel, listingID: text(parts[1]))
    }

    // MARK: Listing maps

    static func encode(_ map: ListingMap, into writer: inout ArgumentWriter) {
        switch map.target {
        case .item(let item):
            writer.raw("i")
            writer.byte(unit)
            writer.raw(item)
        case .bundle(let components):
            writer.raw("b")
            for component in components {
                writer.byte(unit)
                writer.raw(component.itemID)
                writer.byte(unit)
                writer.decimal(component.quantity)
            }
        }
        writer.byte(record)
        for (index, location) in map.locations.enumerated() {
            if index > 0 { writer.byte(unit) }
            writer.raw(location)
        }
    }

    static func decodeListing(_ key: ListingKey, _ bytes: [UInt8]) throws(RedisError) -> ListingMap {
        let sections = split(bytes, on: record)
        guard sections.count == 2 else { throw RedisError(.corruptData, "bad listing map") }
        let head = split(sections[0], on: unit)
        let target: ListingMap.Target
        if head.first == [UInt8(ascii: "i")], head.count == 2 {
            target = .item(text(head[1]))
        } else if head.first == [UInt8(ascii: "b")], head.count % 2 == 1 {
            var components: [BundleComponent] = []
            var index = 1
            while index < head.count {
                guard let quantity = integer(head[index + 1]) else { throw RedisError(.corruptData, "bad bundle") }
                components.append(BundleComponent(itemID: text(head[index]), quantity: quantity))
                index += 2
            }
            target = .bundle(components)
        } else {
            throw RedisError(.corruptData, "bad listing target")
        }
        let locations = split(sections[1], on: unit).map { text($0) }
        return ListingMap(channel: key.channel, listingID: key.listingID, target: target, locations: locations)
    }

    // MARK: Rules

    static func ruleField(_ key: AllocationRuleKey, into writer: inout ArgumentWriter) {
        writer.raw(key.channel.name)
        if let listing = key.listingID {
            writer.byte(unit)
            writer.raw(listing)
        }
    }

    static func encode(_ rule: AllocationRule, into writer: inout ArgumentWriter) {
        writer.decimal(rule.safetyStock)
        writer.byte(unit)
        writer.decimal(rule.percentageHundredths)
        writer.byte(unit)
        writer.decimal(rule.maximum ?? -1)
        writer.byte(unit)
        writer.decimal(rule.floor)
        writer.byte(record)
        for (index, location) in rule.locations.enumerated() {
            if index > 0 { writer.byte(unit) }
            writer.raw(location)
        }
    }

    static func decodeRule(field: [UInt8], _ bytes: [UInt8]) throws(RedisError) -> AllocationRule {
        let key = split(field, on: unit)
        guard let channel = Channel(name: text(key[0])), key.count <= 2 else {
            throw RedisError(.corruptData, "bad rule key")
        }
        let sections = split(bytes, on: record)
        guard sections.count == 2 else { throw RedisError(.corruptData, "bad rule") }
        let numbers = split(sections[0], on: unit).map { integer($0) }
        guard numbers.count == 4, let safety = numbers[0], let percentage = numbers[1], let maximum = numbers[2],
            let floor = numbers[3]
        else { throw RedisError(.corruptData, "bad rule figures") }
        let locations = sections[1].isEmpty ? [] : split(sections[1], on: unit).map { text($0) }
        return AllocationRule(
            channel: channel,
            listingID: key.count == 2 ? text(key[1]) : nil,
            safetyStock: safety,
            percentageHundredths: percentage,
            maximum: maximum < 0 ? nil : maximum,
            floor: floor,
            locations: locations)
    }

    // MARK: Events

    static func encode(_ event: SaleEvent, into writer: inout ArgumentWriter) {
        writer.raw(event.orderID)
        writer.byte(unit)
        writer.raw(event.lineID)
        writer.byte(unit)
        writer.decimal(event.quantity)
        writer.byte(unit)
        writer.decimal(event.version)
        writer.byte(unit)
        writer.raw(event.locationID ?? "")
    }

    static func decodeEvent(_ key: ListingKey, _ bytes: [UInt8]) throws(RedisError) -> SaleEvent {
        let parts = split(bytes, on: unit)
        guard parts.count == 5, let quantity = integer(parts[2]), let version = integer(parts[3]) else {
            throw RedisError(.corruptData, "bad parked event")
        }
        return SaleEvent(
            channel: key.channel, listingID: key.listingID, orderID: text(parts[0]), lineID: text(parts[1]),
            quantity: quantity, version: version, locationID: parts[4].isEmpty ? nil : text(parts[4]))
    }
}
