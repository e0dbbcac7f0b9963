import StockyardCore
import StockyardEngine
import StockyardMarketplaces
import StockyardOutbound
import StockyardZoho

/// A fast reader for the common shape of a `POST /v1/events` body, straight from the bytes.
///
/// It reads well-formed bodies whose events use plain strings, integers, `null` and the known
/// members (unknown members of any JSON type are skipped). Anything else — malformed JSON, a
/// fraction or exponent, a duplicate member, an unknown channel, a bad version — makes it give up
/// (`nil`), and the caller decodes with `JSONDecoder`, which names the offending field. So the
/// two always agree on what a valid body means.
struct EventsBodyParser {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The events of a body, or nil to fall back to the full decoder.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> [SaleEvent]? {
        var parser = EventsBodyParser(bytes)
        return parser.body()
    }

    private mutating func body() -> [SaleEvent]? {
        guard consume(UInt8(ascii: "{")) else { return nil }
        var events: [SaleEvent]?
        if consume(UInt8(ascii: "}")) { return nil }
        repeat {
            guard let key = string() else { return nil }
            guard consume(UInt8(ascii: ":")) else { return nil }
            if key == "events" {
                guard events == nil, let parsed = eventList() else { return nil }
                events = parsed
            } else {
                guard skipValue() else { return nil }
            }
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")) else { return nil }
        skipWhitespace()
        guard position == bytes.count else { return nil }
        return events
    }

    private mutating func eventList() -> [SaleEvent]? {
        guard consume(UInt8(ascii: "[")) else { return nil }
        var events: [SaleEvent] = []
        events.reserveCapacity(min(bytes.count / 80, 10_000))
        if consume(UInt8(ascii: "]")) { return events }
        repeat {
            guard let event = event() else { return nil }
            events.append(event)
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "]")) else { return nil }
        return events
    }

    private mutating func event() -> SaleEvent? {
        guard consume(UInt8(ascii: "{")) else { return nil }
        var channel: Channel?
        var listing: String?
        var order: String?
        var line: String?
        var quantity: Int64?
        var version: Int64?
        var location: String??
        if consume(UInt8(ascii: "}")) { return nil }
        repeat {
            guard let key = string(), consume(UInt8(ascii: ":")) else { return nil }
            switch key {
            case "channel":
                guard channel == nil, let name = string(), let value = Channel(name: name) else { return nil }
                channel = value
            case "listing_id":
                guard listing == nil, let value = identifier() else { return nil }
                listing = value
            case "order_id":
                guard order == nil, let value = identifier() else { return nil }
                order = value
            case "line_id":
                guard line == nil, let value = identifier() else { return nil }
                line = value
            case "quantity":
                guard quantity == nil, let value = integer() else { return nil }
                quantity = value
            case "version":
                guard version == nil else { return nil }
                if peek() == UInt8(ascii: "\"") {
                    guard let text = string(), let micros = SourceVersion.parseTimestamp(text) else { return nil }
                    version = micros
                } else {
                    guard let value = integer() else { return nil }
                    version = value
                }
            case "location_id":
                guard location == nil else { return nil }
                if consumeLiteral("null") {
                    location = .some(nil)
                } else {
                    guard let value = identifier() else { return nil }
                    location = .some(value)
                }
            default:
                guard skipValue() else { return nil }
            }
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")), let channel, let listing, let order, let line, let quantity, let version else {
            return nil
        }
        return SaleEvent(
            channel: channel, listingID: listing, orderID: order, lineID: line, quantity: quantity, version: version,
            locationID: location ?? nil)
    }

    // MARK: Values

    /// An id: a string, or an integer kept as its decimal text.
    private mutating func identifier() -> String? {
        if peek() == UInt8(ascii: "\"") { return string() }
        guard let value = integer() else { return nil }
        return String(value)
    }

    /// A JSON integer that fits in Int64, with no fraction or exponent.
    private mutating func integer() -> Int64? {
        skipWhitespace()
        var negative = false
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        let start = position
        var value: Int64 = 0
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
            let digit = Int64(bytes[position] - 0x30)
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = next
            position += 1
        }
        let digits = position - start
        guard digits > 0, digits == 1 || bytes[start] != 0x30 else { return nil }
        if position < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[position]) {
            return nil
        }
        return value
    }

    /// A JSON string; escapes are decoded. Gives up on invalid UTF-8 or escapes.
    private mutating func string() -> String? {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
        position += 1
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
                position += 1
                return String(validating: raw, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                position = start
                return escapedString()
            }
            if byte < 0x20 { return nil }
            position += 1
        }
        return nil
    }

    /// The slow path of `string()`, from just after the opening quote.
    private mutating func escapedString() -> String? {
        var output: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: output, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { return nil }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
                case UInt8(ascii: "b"): output.append(0x08)
                case UInt8(ascii: "f"): output.append(0x0C)
                case UInt8(ascii: "n"): output.append(0x0A)
                case UInt8(ascii: "r"): output.append(0x0D)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard consumeRaw(UInt8(ascii: "\\")), consumeRaw(UInt8(ascii: "u")), let low = hex4(),
                            (0xDC00..<0xE000).contains(low)
                        else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        return nil
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { return nil }
                    output.append(contentsOf: Array(String(Character(unicode)).utf8))
                default:
                    return nil
                }
            default:
                if byte < 0x20 { return nil }
                output.append(byte)
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard position + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            position += 1
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }

    /// Skips any JSON value (for unknown members), checking it is well-formed enough.
    private mutating func skipValue(depth: Int = 0) -> Bool {
        guard depth < 64 else { return false }
        skipWhitespace()
        guard position < bytes.count else { return false }
        switch bytes[position] {
        case UInt8(ascii: "\""):
            return string() != nil
        case UInt8(ascii: "{"):
            position += 1
            if consume(UInt8(ascii: "}")) { return true }
            repeat {
                guard string() != nil, consume(UInt8(ascii: ":")), skipValue(depth: depth + 1) else { return false }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            position += 1
            if consume(UInt8(ascii: "]")) { return true }
            repeat {
                guard skipValue(depth: depth + 1) else { return false }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "]"))
        case UInt8(ascii: "t"): return consumeLiteral("true")
        case UInt8(ascii: "f"): return consumeLiteral("false")
        case UInt8(ascii: "n"): return consumeLiteral("null")
        default:
            // Numbers of any form are fine to skip only as plain integers; else let the decoder judge.
            return integer() != nil
        }
    }

    // MARK: Tokens

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        return consumeRaw(byte)
    }

    private mutating func consumeRaw(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    private mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        skipWhitespace()
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        for index in 0..<count where bytes[position + index] != literal.utf8Start[index] { return false }
        position += count
        return true
    }
}
