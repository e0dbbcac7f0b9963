/// Commands to send in one pipelined round trip, with their arguments packed into one buffer.
public struct RedisCommandBuffer: Sendable {
    var bytes: [UInt8] = []
    /// End offset of each argument in `bytes`.
    var argumentEnds: [Int] = []
    /// Number of arguments of each command.
    var argumentCounts: [Int] = []
    private var openArguments = 0

    public init() {}

    public var commandCount: Int { argumentCounts.count }
    public var isEmpty: Bool { argumentCounts.isEmpty }
    public var byteCount: Int { bytes.count }

    /// Starts a command; arguments follow with `argument(_:)`, and `end()` closes it.
    public mutating func begin(_ name: String) {
        precondition(openArguments == 0, "previous command not ended")
        argument(name)
    }

    public mutating func argument(_ value: String) {
        bytes.append(contentsOf: value.utf8)
        close()
    }

    public mutating func argument(_ value: some Sequence<UInt8>) {
        bytes.append(contentsOf: value)
        close()
    }

    public mutating func argument(_ value: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: value)
        close()
    }

    public mutating func argument(_ value: Int64) {
        appendDecimal(value)
        close()
    }

    /// Builds one argument piece by piece.
    public mutating func argument(_ build: (inout ArgumentWriter) -> Void) {
        var writer = ArgumentWriter(bytes: bytes)
        bytes = []
        build(&writer)
        bytes = writer.bytes
        close()
    }

    public mutating func end() {
        precondition(openArguments > 0, "empty command")
        argumentCounts.append(openArguments)
        openArguments = 0
    }

    /// A whole command in one call.
    public mutating func command(_ parts: String...) {
        begin(parts[0])
        for part in parts.dropFirst() { argument(part) }
        end()
    }

    private mutating func close() {
        argumentEnds.append(bytes.count)
        openArguments += 1
    }

    private mutating func appendDecimal(_ value: Int64) {
        var writer = ArgumentWriter(bytes: bytes)
        bytes = []
        writer.decimal(value)
        bytes = writer.bytes
    }
}

/// Appends the bytes of one argument.
public struct ArgumentWriter {
    var bytes: [UInt8]

    public mutating func raw(_ value: UnsafeRawBufferPointer) { bytes.append(contentsOf: value) }
    public mutating func raw(_ value: String) { bytes.append(contentsOf: value.utf8) }
    public mutating func byte(_ value: UInt8) { bytes.append(value) }

    public mutating func decimal(_ value: Int64) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            if value == .min {
                bytes.append(contentsOf: "9223372036854775808".utf8)
                return
            }
            decimal(-value)
            return
        }
        if value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) {
                bytes.append(buffer[index])
            }
        }
    }
}
