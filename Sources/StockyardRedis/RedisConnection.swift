import CHiredis
import CStockyardRedisShim

/// One blocking connection to Redis over hiredis.
///
/// Not thread-safe, like the hiredis context it owns: use it from one thread at a time, and
/// never from Swift's cooperative pool, since every call blocks on the network.
public final class RedisConnection {
    private var context: UnsafeMutablePointer<redisContext>?
    public let configuration: RedisConfiguration
    /// Redis's id for this connection and its address as Redis sees it (`CLIENT INFO`), so that
    /// a later connection can end this one on the server (`CLIENT KILL ID … ADDR …`: both must
    /// match, so an id reused after Redis restarts names no other client); nil where Redis does
    /// not say (before 6.2).
    public private(set) var serverIdentity: (id: String, address: String)?

    /// Connects, authenticates and selects the database.
    public init(configuration: RedisConfiguration) throws(RedisError) {
        self.configuration = configuration
        let connectTimeout = timeval(seconds: configuration.connectTimeout)
        guard let context = redisConnectWithTimeout(configuration.host, Int32(configuration.port), connectTimeout) else {
            throw RedisError(.connection, "cannot allocate a Redis context")
        }
        if context.pointee.err != 0 {
            let message = Self.errorString(context)
            redisFree(context)
            throw RedisError(.connection, "cannot connect to \(configuration.host):\(configuration.port): \(message)")
        }
        self.context = context
        _ = redisSetTimeout(context, timeval(seconds: configuration.commandTimeout))
        _ = redisEnableKeepAlive(context)
        if let password = configuration.password {
            let reply = try command(["AUTH", password])
            if case .error = reply { throw RedisError(.connection, "Redis refused the password") }
        }
        if configuration.database != 0 {
            let reply = try command(["SELECT", String(configuration.database)])
            if case .error(let message) = reply { throw RedisError(.connection, "cannot select database: \(message)") }
        }
        if case .string(let info) = try command(["CLIENT", "INFO"]) {
            var id: String?
            var address: String?
            for field in String(decoding: info, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                if field.hasPrefix("id=") { id = String(field.dropFirst(3)) }
                if field.hasPrefix("addr=") { address = String(field.dropFirst(5)) }
            }
            if let id, let address { serverIdentity = (id, address) }
        }
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// False once an I/O error has broken the connection; make a new one.
    public var isUsable: Bool { context != nil }

    /// Sends one command and waits for its reply.
    public func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        var buffer = RedisCommandBuffer()
        buffer.begin(arguments[0])
        for argument in arguments.dropFirst() { buffer.argument(argument) }
        buffer.end()
        return try pipeline(buffer)[0]
    }

    /// Sends every command of the buffer in one round trip and returns their replies in order.
    public func pipeline(_ buffer: RedisCommandBuffer) throws(RedisError) -> [RedisReply] {
        var replies: [RedisReply] = []
        replies.reserveCapacity(buffer.commandCount)
        try pipeline(buffer) { reply in replies.append(RedisReply(reply)) }
        return replies
    }

    /// Sends every command and hands each raw reply to `visit` while it is valid.
    public func pipeline(
        _ buffer: RedisCommandBuffer, visit: (UnsafeMutablePointer<redisReply>) throws(RedisError) -> Void
    ) throws(RedisError) {
        guard let context else { throw RedisError(.connection, "the connection is closed") }
        try append(buffer, to: context)
        for _ in 0..<buffer.commandCount {
            var raw: UnsafeMutableRawPointer?
            if redisGetReply(context, &raw) != REDIS_OK || raw == nil {
                throw broken(context)
            }
            let reply = raw!.assumingMemoryBound(to: redisReply.self)
            defer { freeReplyObject(raw) }
            try visit(reply)
        }
    }

    /// Sends commands without waiting for their replies. Read each reply with `readReply(_:)`,
    /// in order.
    public func send(_ buffer: RedisCommandBuffer) throws(RedisError) {
        guard let context else { throw RedisError(.connection, "the connection is closed") }
        try append(buffer, to: context)
        var done: Int32 = 0
        repeat {
            if redisBufferWrite(context, &done) != REDIS_OK {
                throw broken(context)
            }
        } while done == 0
    }

    /// Reads the next reply of commands queued with `send(_:)`, handing it to `visit` while valid.
    public func readReply(_ visit: (UnsafeMutablePointer<redisReply>) throws(RedisError) -> Void) throws(RedisError) {
        guard let context else { throw RedisError(.connection, "the connection is closed") }
        var raw: UnsafeMutableRawPointer?
        if redisGetReply(context, &raw) != REDIS_OK || raw == nil {
            throw broken(context)
        }
        defer { freeReplyObject(raw) }
        try visit(raw!.assumingMemoryBound(to: redisReply.self))
    }

    /// Reads the next reply of commands queued with `send(_:)` as a summary: its type and its
    /// first error, without building a reply object. For replies that are only checked.
    public func readSummary() throws(RedisError) -> RedisReplySummary {
        guard let context else { throw RedisError(.connection, "the connection is closed") }
        var summary = stockyard_reply_summary()
        if stockyard_redis_read_summary(context, &summary) != REDIS_OK {
            throw broken(context)
        }
        var error: String?
        if summary.errors > 0 {
            error = withUnsafeBytes(of: summary.error) { bytes in
                String(decoding: bytes.prefix(summary.error_length), as: UTF8.self)
            }
        }
        return RedisReplySummary(type: summary.type, elements: Int(summary.elements), errors: Int(summary.errors), error: error)
    }

    /// Writes the buffer's commands in Redis's protocol (`*<count>`, then `$<length>` and the
    /// bytes of each argument) and queues them on the context in one piece.
    private func append(_ buffer: RedisCommandBuffer, to context: UnsafeMutablePointer<redisContext>) throws(RedisError) {
        guard !buffer.isEmpty else { return }
        // Room for the bytes and the longest headers: `$` or `*`, up to 20 digits, CR LF.
        let room = buffer.bytes.count + (buffer.argumentEnds.count + buffer.commandCount) * 25
        let formatted = [UInt8](unsafeUninitializedCapacity: room) { out, initialized in
            buffer.bytes.withUnsafeBufferPointer { bytes in
                var position = 0
                var start = 0
                var argumentIndex = 0
                for count in buffer.argumentCounts {
                    Self.putHeader(UInt8(ascii: "*"), count, into: out, at: &position)
                    for _ in 0..<count {
                        let end = buffer.argumentEnds[argumentIndex]
                        Self.putHeader(UInt8(ascii: "$"), end - start, into: out, at: &position)
                        if end > start {
                            (out.baseAddress! + position).update(from: bytes.baseAddress! + start, count: end - start)
                            position += end - start
                        }
                        out[position] = 0x0D
                        out[position + 1] = 0x0A
                        position += 2
                        start = end
                        argumentIndex += 1
                    }
                }
                initialized = position
            }
        }
        let status = formatted.withUnsafeBytes { bytes in
            redisAppendFormattedCommand(context, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        if status != REDIS_OK {
            close()
            throw RedisError(.io, "cannot queue commands", outcomeKnown: true)
        }
    }

    /// Writes `*12\r\n` or `$5\r\n` at `position` and moves past it.
    private static func putHeader(_ kind: UInt8, _ value: Int, into out: UnsafeMutableBufferPointer<UInt8>, at position: inout Int) {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        let end = position + digits + 3
        out[position] = kind
        var index = end - 3
        rest = value
        repeat {
            out[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            index -= 1
        } while index > position
        out[end - 2] = 0x0D
        out[end - 1] = 0x0A
        position = end
    }

    /// Closes the connection.
    public func close() {
        if let context {
            redisFree(context)
            self.context = nil
        }
    }

    /// Closes a connection whose I/O failed and says why: what was in flight may or may not
    /// have been applied.
    private func broken(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        let message = Self.errorString(context)
        close()
        return RedisError(.io, message, outcomeKnown: false)
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { bytes in
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            let text = String(decoding: bytes[..<end], as: UTF8.self)
            return text.isEmpty ? "connection error \(context.pointee.err)" : text
        }
    }
}

extension timeval {
    init(seconds: Double) {
        let whole = Int(seconds)
        self.init(tv_sec: whole, tv_usec: Int((seconds - Double(whole)) * 1_000_000))
    }
}

/// A reply read as a summary (`RedisConnection.readSummary()`).
public struct RedisReplySummary: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case string, status, error, integer, array, null
    }

    public var kind: Kind
    /// Elements of an array reply.
    public var elements: Int
    /// Error replies in it: the reply itself, or elements of an array.
    public var errors: Int
    /// The first error's text (at most 255 bytes of it).
    public var error: String?

    init(type: Int32, elements: Int, errors: Int, error: String?) {
        switch type {
        case REDIS_REPLY_STRING: kind = .string
        case REDIS_REPLY_STATUS: kind = .status
        case REDIS_REPLY_ERROR: kind = .error
        case REDIS_REPLY_INTEGER: kind = .integer
        case REDIS_REPLY_ARRAY: kind = .array
        default: kind = .null
        }
        self.elements = elements
        self.errors = errors
        self.error = error
    }
}

/// A reply from Redis, copied out of hiredis.
public enum RedisReply: Sendable, Hashable {
    case string([UInt8])
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case error(String)

    init(_ reply: UnsafeMutablePointer<redisReply>) {
        let value = reply.pointee
        switch Int32(value.type) {
        case REDIS_REPLY_STRING:
            self = .string(Array(UnsafeRawBufferPointer(start: value.str, count: Int(value.len))))
        case REDIS_REPLY_STATUS:
            self = .status(String(decoding: UnsafeRawBufferPointer(start: value.str, count: Int(value.len)), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            self = .error(String(decoding: UnsafeRawBufferPointer(start: value.str, count: Int(value.len)), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(value.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(Int(value.elements))
            for index in 0..<Int(value.elements) {
                elements.append(RedisReply(value.element[index]!))
            }
            self = .array(elements)
        default:
            self = .null
        }
    }

    /// The reply as text, for string and status replies.
    public var text: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }
}
