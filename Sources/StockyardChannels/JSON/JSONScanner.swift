/// A pull reader over the raw bytes of a JSON document, for webhook bodies.
///
/// It reads only the fields a caller asks for and skips the rest without building values, keeps
/// integers as their digits (ids above 2^53 stay exact), and reports errors with the path of the
/// field being read (`line_items[2].quantity`). Use it inside the closure that lends the bytes.
///
/// Every string is checked to be UTF-8, fields skipped included: bytes that are not would be
/// repaired into U+FFFD by any conversion to text, and two ids that differ only there would
/// become one. A field that a reader reads, given twice in one object, is refused: readers
/// that kept the first and readers that kept the last would otherwise read one body two ways.
public struct JSONScanner {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    /// Path of the value being read, for error messages.
    private var path: [PathPart] = []
    /// Field names that held escapes, decoded; made only when one appears.
    private var decodedKeys: DecodedKeys?
    /// The names of the fields read so far in each object being read, innermost last; an
    /// object's own start in it is kept by `fields` while it reads.
    private var readKeys: [UnsafeRawBufferPointer] = []

    /// A path step; a key is kept as its bytes (in the body, or decoded), made text only for errors.
    private enum PathPart {
        case key(UnsafeRawBufferPointer)
        case index(Int)
    }

    /// Owns the bytes of decoded field names for as long as the scanner lives, so that a key
    /// and a path step can point at them as they point into the body.
    private final class DecodedKeys {
        private var buffers: [UnsafeMutableRawBufferPointer] = []

        func keep(_ text: String) -> UnsafeRawBufferPointer {
            let utf8 = Array(text.utf8)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: utf8.count, alignment: 1)
            utf8.withUnsafeBytes { buffer.copyMemory(from: $0) }
            buffers.append(buffer)
            return UnsafeRawBufferPointer(buffer)
        }

        deinit {
            for buffer in buffers { buffer.deallocate() }
        }
    }

    /// Objects and arrays nest at most this deep; a deeper document is refused rather than read
    /// with a stack that grows with it.
    public static let maxDepth = 512

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    // MARK: Structure

    /// Calls `body` once per field of the object at the cursor; `body` must read or skip the value.
    /// `null` counts as an empty object. A field whose value `body` reads may appear only once
    /// (ASCII case aside, as some readers take `OrderId` and `orderId` alike); one that `body`
    /// leaves alone is skipped, however often it appears.
    public mutating func fields(_ body: (inout JSONScanner, JSONKey) throws(PayloadError) -> Void) throws(PayloadError) {
        try fields(checkingRepeats: true, body)
    }

    private mutating func fields(
        checkingRepeats: Bool, _ body: (inout JSONScanner, JSONKey) throws(PayloadError) -> Void
    ) throws(PayloadError) {
        let firstRead = readKeys.count
        defer { if readKeys.count > firstRead { readKeys.removeSubrange(firstRead...) } }
        skipSpace()
        if consumeLiteral("null") { return }
        guard peek() == UInt8(ascii: "{") else { throw typeError("an object") }
        guard path.count < Self.maxDepth else { throw syntaxError("objects and arrays nest deeper than \(Self.maxDepth) levels") }
        position += 1
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            skipSpace()
            guard peek() == UInt8(ascii: "\"") else { throw syntaxError("expected a field name") }
            let key = try readKey()
            skipSpace()
            guard peek() == UInt8(ascii: ":") else { throw syntaxError("expected ':' after a field name") }
            position += 1
            path.append(.key(key.bytes))
            let before = position
            try body(&self, key)
            if position == before {
                try skipValue()
            } else if checkingRepeats {
                try noteRead(key, since: firstRead)
            }
            path.removeLast()
            skipSpace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return
            default: throw syntaxError("expected ',' or '}' in an object")
            }
        }
    }

    /// Remembers that `key` was read in the object whose names start at `firstRead`; refuses
    /// it, naming the field, when it was read there already. Objects have few fields that are
    /// read, so a look at each is cheaper than any set.
    private mutating func noteRead(_ key: JSONKey, since firstRead: Int) throws(PayloadError) {
        for index in firstRead..<readKeys.count where JSONKey(bytes: readKeys[index]).equalsIgnoringCase(key) {
            throw repeatedFieldError()
        }
        readKeys.append(key.bytes)
    }

    /// The field at the cursor, given a second time in its object.
    private func repeatedFieldError() -> PayloadError {
        PayloadError(field: currentPath, message: "\(currentPath) appears more than once in its object")
    }

    /// Calls `body` once per element of the array at the cursor; `null` counts as empty.
    public mutating func elements(_ body: (inout JSONScanner, Int) throws(PayloadError) -> Void) throws(PayloadError) {
        skipSpace()
        if consumeLiteral("null") { return }
        guard peek() == UInt8(ascii: "[") else { throw typeError("an array") }
        guard path.count < Self.maxDepth else { throw syntaxError("objects and arrays nest deeper than \(Self.maxDepth) levels") }
        position += 1
        skipSpace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return
        }
        var index = 0
        while true {
            path.append(.index(index))
            let before = position
            try body(&self, index)
            if position == before { try skipValue() }
            path.removeLast()
            skipSpace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
                index += 1
            case UInt8(ascii: "]"):
                position += 1
                return
            default: throw syntaxError("expected ',' or ']' in an array")
            }
        }
    }

    /// Checks that nothing but white space follows the document.
    public mutating func finish() throws(PayloadError) {
        skipSpace()
        if position != bytes.count { throw syntaxError("unexpected bytes after the document") }
    }

    // MARK: Values

    /// Whether the value at the cursor is `null` (consumed if so).
    public mutating func readNull() -> Bool {
        skipSpace()
        return consumeLiteral("null")
    }

    /// A string, or nil for `null`.
    public mutating func string() throws(PayloadError) -> String? {
        skipSpace()
        if consumeLiteral("null") { return nil }
        guard peek() == UInt8(ascii: "\"") else { throw typeError("a string") }
        return try readString()
    }

    /// An identifier given as an integer (kept digit for digit) or a string; nil for `null`.
    public mutating func identifier() throws(PayloadError) -> String? {
        skipSpace()
        if consumeLiteral("null") { return nil }
        if peek() == UInt8(ascii: "\"") { return try readString() }
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        let digits = position
        while let byte = peek(), byte >= 0x30, byte <= 0x39 { position += 1 }
        guard position > digits, !isNumberContinuation(peek()) else {
            position = start
            throw typeError("an integer or a string id")
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    /// A whole number that fits in 64 bits; nil for `null`. `2.0` is accepted, `2.5` is not.
    public mutating func integer() throws(PayloadError) -> Int64? {
        skipSpace()
        if consumeLiteral("null") { return nil }
        let start = position
        var negative = false
        if peek() == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var value: Int64 = 0
        var digits = 0
        while let byte = peek(), byte >= 0x30, byte <= 0x39 {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - 0x30))
            if overflow1 || overflow2 { throw valueError("is too large") }
            value = sum
            digits += 1
            position += 1
        }
        guard digits > 0 else {
            position = start
            throw typeError("an integer")
        }
        if peek() == UInt8(ascii: ".") {
            position += 1
            var fractionDigits = 0
            while let byte = peek(), byte >= 0x30, byte <= 0x39 {
                if byte != 0x30 { throw valueError("must be a whole number") }
                fractionDigits += 1
                position += 1
            }
            if fractionDigits == 0 { throw syntaxError("a number ends with '.'") }
        }
        if let byte = peek(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            throw valueError("must be a whole number without an exponent")
        }
        return negative ? -value : value
    }

    /// A boolean; nil for `null`.
    public mutating func bool() throws(PayloadError) -> Bool? {
        skipSpace()
        if consumeLiteral("null") { return nil }
        if consumeLiteral("true") { return true }
        if consumeLiteral("false") { return false }
        throw typeError("a boolean")
    }

    /// Skips one value of any kind, checking its syntax.
    public mutating func skipValue() throws(PayloadError) {
        // Most skipped values are well formed: a quick pass without the path checks them, and
        // only a value it cannot take is read again the careful way, for the exact error.
        let start = position
        if quickSkip() { return }
        position = start
        try skipTracked()
    }

    /// Skips one value keeping the path, so that an error names where it is.
    private mutating func skipTracked() throws(PayloadError) {
        skipSpace()
        guard let byte = peek() else { throw syntaxError("the document ends early") }
        switch byte {
        case UInt8(ascii: "{"):
            try fields(checkingRepeats: false) { (scanner, _) throws(PayloadError) in try scanner.skipTracked() }
        case UInt8(ascii: "["):
            try elements { (scanner, _) throws(PayloadError) in try scanner.skipTracked() }
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "t"):
            if !consumeLiteral("true") { throw syntaxError("invalid literal") }
        case UInt8(ascii: "f"):
            if !consumeLiteral("false") { throw syntaxError("invalid literal") }
        case UInt8(ascii: "n"):
            if !consumeLiteral("null") { throw syntaxError("invalid literal") }
        default:
            try skipNumber()
        }
    }

    /// Reads the whole document for a body that a general decoder reads next, and refuses what
    /// such a decoder would let through or settle its own way: bytes that are not UTF-8, a field
    /// name given twice in one object, and a number that is not whole by its digits yet that a
    /// double rounds to a whole one (`0.99999999999999999999`, `1e-400`). Errors name the field.
    public mutating func checkDocument() throws(PayloadError) {
        try checkValue()
        try finish()
    }

    private mutating func checkValue() throws(PayloadError) {
        skipSpace()
        guard let byte = peek() else { throw syntaxError("the document ends early") }
        switch byte {
        case UInt8(ascii: "{"):
            var names = Set<[UInt8]>()
            try fields(checkingRepeats: false) { (scanner, key) throws(PayloadError) in
                guard names.insert(Array(key.bytes)).inserted else { throw scanner.repeatedFieldError() }
                try scanner.checkValue()
            }
        case UInt8(ascii: "["):
            try elements { (scanner, _) throws(PayloadError) in try scanner.checkValue() }
        case UInt8(ascii: "\""), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            try skipTracked()
        default:
            let start = position
            try skipNumber()
            let text = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
            guard let whole = Self.isWholeNumber(text) else {
                position = start
                throw syntaxError("an invalid number")
            }
            if !whole, let value = Double(String(decoding: text, as: UTF8.self)), value.rounded(.towardZero) == value {
                throw valueError("must be written exactly: \(String(decoding: text, as: UTF8.self)) is not a whole number, yet a double reads it as one")
            }
        }
    }

    /// Whether a JSON number is whole, decided from its digits alone: no digit after the decimal
    /// point, once the exponent has moved it, is other than zero. Nil for text that is not a
    /// JSON number.
    public static func isWholeNumber(_ text: UnsafeRawBufferPointer) -> Bool? {
        var index = 0
        func digit(_ at: Int) -> Bool { at < text.count && text[at] >= 0x30 && text[at] <= 0x39 }
        if index < text.count, text[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        while digit(index) { index += 1 }
        let integerDigits = index - integerStart
        guard integerDigits > 0, integerDigits == 1 || text[integerStart] != 0x30 else { return nil }
        // The position of the last non-zero digit, counting the fraction's digits after the integer's.
        var lastNonZero = -1
        for offset in 0..<integerDigits where text[integerStart + offset] != 0x30 { lastNonZero = offset }
        if index < text.count, text[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while digit(index) {
                if text[index] != 0x30 { lastNonZero = integerDigits + index - fractionStart }
                index += 1
            }
            guard index > fractionStart else { return nil }
        }
        var exponent = 0
        if index < text.count, text[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            var negative = false
            if index < text.count, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
                negative = text[index] == UInt8(ascii: "-")
                index += 1
            }
            let exponentStart = index
            while digit(index) {
                // Beyond a million digits either way nothing changes the answer.
                exponent = min(exponent * 10 + Int(text[index] - 0x30), 1_000_000)
                index += 1
            }
            guard index > exponentStart else { return nil }
            if negative { exponent = -exponent }
        }
        guard index == text.count else { return nil }
        return lastNonZero < 0 || lastNonZero < integerDigits + exponent
    }

    /// An error about the value at the cursor, naming its path.
    public func valueError(_ message: String) -> PayloadError {
        PayloadError(field: currentPath, message: "\(currentPath.isEmpty ? "the body" : currentPath) \(message)")
    }

    /// The path of the value at the cursor, e.g. `line_items[2].quantity`.
    public var currentPath: String {
        var text = ""
        for part in path {
            switch part {
            case .key(let bytes):
                let key = String(decoding: bytes, as: UTF8.self)
                text += text.isEmpty ? key : ".\(key)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }

    // MARK: Bytes

    @inline(__always)
    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    @inline(__always)
    private mutating func skipSpace() {
        // Most values follow their colon or comma at once or after one space.
        guard position < bytes.count, bytes[position] <= 0x20 else { return }
        // Indentation comes in runs (a line break and spaces): find its end a word at a time.
        // Tabs and carriage returns stop the word scan; the byte loop below takes them.
        while position + 8 <= bytes.count {
            let word = loadWord(at: position)
            let space = Self.zeroBytes(word ^ Self.repeated(0x20)) | Self.zeroBytes(word ^ Self.repeated(0x0A))
            let other = ~space & Self.repeated(0x80)
            if other != 0 {
                position += other.trailingZeroBitCount >> 3
                if bytes[position] > 0x20 { return }
                break
            }
            position += 8
        }
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    // MARK: Eight bytes at a time

    /// The eight bytes at `offset`, the first in the lowest byte whatever the machine's order.
    @inline(__always)
    private func loadWord(at offset: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    private static func repeated(_ byte: UInt8) -> UInt64 { 0x0101_0101_0101_0101 &* UInt64(byte) }

    /// The high bit of each byte of `word` that is zero, and no other bit (exact: no borrow
    /// crosses from one byte into the next).
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        let low7 = repeated(0x7F)
        return ~(((word & low7) &+ low7) | word | low7)
    }

    /// Moves the cursor to the first quote, backslash, control character or byte above 0x7F at
    /// or after it, or to the end: where string content stops being plain ASCII.
    @inline(__always)
    private mutating func skipPlainStringBytes() {
        while position + 8 <= bytes.count {
            let word = loadWord(at: position)
            let special = Self.zeroBytes(word ^ Self.repeated(0x22)) | Self.zeroBytes(word ^ Self.repeated(0x5C))
                | Self.zeroBytes(word & Self.repeated(0xE0)) | (word & Self.repeated(0x80))
            if special != 0 {
                position += special.trailingZeroBitCount >> 3
                return
            }
            position += 8
        }
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x22 || byte == 0x5C || byte < 0x20 || byte >= 0x80 { return }
            position += 1
        }
    }

    /// Moves the cursor over string content up to the first quote, backslash or control
    /// character, or the end, checking that the bytes above 0x7F on the way are UTF-8. False,
    /// the cursor on them, at bytes that are not.
    @inline(__always)
    private mutating func skipStringText() -> Bool {
        while true {
            skipPlainStringBytes()
            guard position < bytes.count, bytes[position] >= 0x80 else { return true }
            let length = utf8SequenceLength(at: position)
            if length == 0 { return false }
            position += length
        }
    }

    /// The length of the UTF-8 sequence at `offset` (a byte above 0x7F), or 0 when the bytes
    /// there are not UTF-8: overlong forms, surrogates and values above U+10FFFF included.
    private func utf8SequenceLength(at offset: Int) -> Int {
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        let length: Int
        switch bytes[offset] {
        case 0xC2...0xDF: length = 2
        case 0xE0: (length, low) = (3, 0xA0)
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: (length, high) = (3, 0x9F)
        case 0xF0: (length, low) = (4, 0x90)
        case 0xF1...0xF3: length = 4
        case 0xF4: (length, high) = (4, 0x8F)
        default: return 0
        }
        guard offset + length <= bytes.count, bytes[offset + 1] >= low, bytes[offset + 1] <= high else { return 0 }
        for index in (offset + 2)..<(offset + length) where bytes[index] & 0xC0 != 0x80 { return 0 }
        return length
    }

    private func invalidUTF8Error() -> PayloadError {
        PayloadError(
            field: currentPath.isEmpty ? nil : currentPath, code: .invalidJSON,
            message: "the body is not valid JSON: \(currentPath.isEmpty ? "a string" : currentPath) holds bytes that are not UTF-8 at byte \(position)")
    }

    private mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let pointer = literal.utf8Start
        for offset in 0..<count where bytes[position + offset] != pointer[offset] { return false }
        if isNumberContinuation(position + count < bytes.count ? bytes[position + count] : nil) { return false }
        position += count
        return true
    }

    private func isNumberContinuation(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == UInt8(ascii: ".")
    }

    /// Skips one value as `skipTracked()` would, without keeping the path. False (the cursor
    /// anywhere) for anything `skipTracked()` might refuse, and for keys with escapes or control
    /// characters.
    private mutating func quickSkip() -> Bool {
        // One loop, no recursion: bit `d` of `objects` says whether the container at depth d + 1
        // is an object. Deeper than 64 levels, the careful reader takes over.
        var objects: UInt64 = 0
        var depth = 0
        var atKey = false
        while true {
            skipSpace()
            guard position < bytes.count else { return false }
            if atKey {
                guard bytes[position] == UInt8(ascii: "\"") else { return false }
                position += 1
                guard skipStringText(), position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return false }
                position += 1
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return false }
                position += 1
                atKey = false
                continue
            }
            // A value.
            switch bytes[position] {
            case UInt8(ascii: "\""):
                position += 1
                stringEnd: while true {
                    guard skipStringText(), position < bytes.count else { return false }
                    switch bytes[position] {
                    case UInt8(ascii: "\""):
                        position += 1
                        break stringEnd
                    case UInt8(ascii: "\\"): position += 2
                    default: return false
                    }
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = bytes[position] == UInt8(ascii: "{")
                position += 1
                skipSpace()
                if position < bytes.count, bytes[position] == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    position += 1
                } else {
                    guard depth < 64 else { return false }
                    if isObject { objects |= 1 << UInt64(depth) } else { objects &= ~(1 << UInt64(depth)) }
                    depth += 1
                    atKey = isObject
                    continue
                }
            case UInt8(ascii: "t"): guard consumeLiteral("true") else { return false }
            case UInt8(ascii: "f"): guard consumeLiteral("false") else { return false }
            case UInt8(ascii: "n"): guard consumeLiteral("null") else { return false }
            default:
                let start = position
                do {
                    try skipNumber()
                } catch {
                    position = start
                    return false
                }
            }
            // The value ended: close the containers that end here, then go on to the next value.
            while true {
                if depth == 0 { return true }
                skipSpace()
                guard position < bytes.count else { return false }
                let inObject = objects & (1 << UInt64(depth - 1)) != 0
                let byte = bytes[position]
                if byte == UInt8(ascii: ",") {
                    position += 1
                    atKey = inObject
                    break
                }
                guard byte == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else { return false }
                position += 1
                depth -= 1
            }
        }
    }

    private mutating func skipNumber() throws(PayloadError) {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        var digits = 0
        while let byte = peek(), (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e")
            || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
        {
            if byte >= 0x30 && byte <= 0x39 { digits += 1 }
            position += 1
        }
        if digits == 0 {
            position = start
            throw syntaxError("unexpected character")
        }
    }

    private mutating func readKey() throws(PayloadError) -> JSONKey {
        // Field names are short and almost never escaped: compare them as raw bytes. One with an
        // escape or a control character goes the careful way.
        let quote = position
        position += 1
        if skipStringText(), position < bytes.count, bytes[position] == UInt8(ascii: "\"") {
            position += 1
            return JSONKey(bytes: UnsafeRawBufferPointer(rebasing: bytes[(quote + 1)..<(position - 1)]))
        }
        position = quote
        let text = try readString()
        if decodedKeys == nil { decodedKeys = DecodedKeys() }
        return JSONKey(bytes: decodedKeys!.keep(text))
    }

    private mutating func skipString() throws(PayloadError) {
        position += 1
        while true {
            guard skipStringText() else { throw invalidUTF8Error() }
            guard position < bytes.count else { break }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return
            }
            if byte < 0x20 { throw syntaxError("a control character inside a string") }
            // A backslash: the escaped byte goes with it.
            position += 2
        }
        throw syntaxError("a string is not closed")
    }

    /// Reads a string at the cursor (on its opening quote), decoding escapes.
    private mutating func readString() throws(PayloadError) -> String {
        position += 1
        let start = position
        guard skipStringText() else { throw invalidUTF8Error() }
        if position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                position += 1
                return text
            }
            if byte < 0x20 { throw syntaxError("a control character inside a string") }
        }
        // Escapes: decode the rest, copying the plain runs between them whole.
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let run = position
            guard skipStringText() else { throw invalidUTF8Error() }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[run..<position]))
            guard position < bytes.count else { break }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return String(decoding: out, as: UTF8.self)
            }
            if byte < 0x20 { throw syntaxError("a control character inside a string") }
            position += 1
            guard let escape = peek() else { break }
            position += 1
            switch escape {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try readHex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // A surrogate pair: the low half must follow.
                    guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                        throw syntaxError("a lone surrogate in a \\u escape")
                    }
                    position += 2
                    let low = try readHex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw syntaxError("a lone surrogate in a \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw syntaxError("a lone surrogate in a \\u escape")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw syntaxError("an invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                throw syntaxError("an invalid escape in a string")
            }
        }
        throw syntaxError("a string is not closed")
    }

    private mutating func readHex4() throws(PayloadError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw syntaxError("a \\u escape is cut short") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw syntaxError("an invalid \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private func typeError(_ expected: String) -> PayloadError {
        guard position < bytes.count else { return syntaxError("the document ends early") }
        return valueError("must be \(expected)")
    }

    private func syntaxError(_ message: String) -> PayloadError {
        PayloadError(
            field: currentPath.isEmpty ? nil : currentPath, code: .invalidJSON,
            message: "the body is not valid JSON: \(message) at byte \(position)")
    }
}

/// A field name, its escapes decoded; valid while the scanner that made it reads.
public struct JSONKey {
    fileprivate let bytes: UnsafeRawBufferPointer

    fileprivate init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Whether the name equals `name` exactly.
    @inline(__always)
    public func `is`(_ name: StaticString) -> Bool {
        matches(name, ignoringCase: false)
    }

    /// Whether the name equals `name` ignoring ASCII letter case, for payloads that come in
    /// both PascalCase and camelCase (`AmazonOrderId`, `amazonOrderId`, `sellerSku`).
    @inline(__always)
    public func isAnyCase(_ name: StaticString) -> Bool {
        matches(name, ignoringCase: true)
    }

    /// Whether two names are equal ignoring ASCII letter case.
    fileprivate func equalsIgnoringCase(_ other: JSONKey) -> Bool {
        guard bytes.count == other.bytes.count else { return false }
        for index in 0..<bytes.count where bytes[index] != other.bytes[index] {
            let folded = bytes[index] | 0x20
            guard folded == other.bytes[index] | 0x20, folded >= 0x61, folded <= 0x7A else { return false }
        }
        return true
    }

    private func matches(_ name: StaticString, ignoringCase: Bool) -> Bool {
        let count = name.utf8CodeUnitCount
        let pointer = name.utf8Start
        func equal(_ a: UInt8, _ b: UInt8) -> Bool {
            if a == b { return true }
            return ignoringCase && a | 0x20 == b | 0x20 && (a | 0x20) >= 0x61 && (a | 0x20) <= 0x7A
        }
        guard bytes.count == count else { return false }
        for index in 0..<count where !equal(bytes[index], pointer[index]) { return false }
        return true
    }
}
