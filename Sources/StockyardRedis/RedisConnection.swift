import CHiredis

/// One blocking connection to Redis over hiredis.
///
/// Not thread-safe, like the hiredis context it owns: use it from one thread at a time, and
/// never from Swift's cooperative pool, since every call blocks on the network.
public final class RedisConnection {
    private var context: UnsafeMutablePointer<redisContext>?
    public let configuration: RedisConfiguration

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
                let message = Self.errorString(context)
                close()
                throw RedisError(.io, message, outcomeKnown: false)
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
                let message = Self.errorString(context)
                close()
                throw RedisError(.io, message, outcomeKnown: false)
            }
        } while done == 0
    }

    /// Reads the next reply of commands queued with `send(_:)`, handing it to `visit` while valid.
    public func readReply(_ visit: (UnsafeMutablePointer<redisReply>) throws(RedisError) -> Void) throws(RedisError) {
        guard let context else { throw RedisError(.connection, "the connection is closed") }
        var raw: UnsafeMutableRawPointer?
        if redisGetReply(context, &raw) != REDIS_OK || raw == nil {
            let message = Self.errorString(context)
            close()
            throw RedisError(.io, message, outcomeKnown: false)
        }
        defer { freeReplyObject(raw) }
        try visit(raw!.assumingMemoryBound(to: redisReply.self))
    }

    private func append(_ buffer: RedisCommandBuffer, to context: UnsafeMutablePointer<redisContext>) throws(RedisError) {
        var failed = false
        buffer.bytes.withUnsafeBufferPointer { bytes in
            let base = UnsafeRawPointer(bytes.baseAddress) ?? UnsafeRawPointer(bitPattern: 1)!
            var argv: [UnsafePointer<CChar>?] = []
            var lengths: [Int] = []
            var argumentIndex = 0
            var start = 0
            for count in buffer.argumentCounts {
                argv.removeAll(keepingCapacity: true)
                lengths.removeAll(keepingCapacity: true)
                for _ in 0..<count {
                    let end = buffer.argumentEnds[argumentIndex]
                    argv.append((base + start).assumingMemoryBound(to: CChar.self))
                    lengths.append(end - start)
                    start = end
                    argumentIndex += 1
                }
                let status = argv.withUnsafeMutableBufferPointer { argvBuffer in
                    lengths.withUnsafeBufferPointer { lengthBuffer in
                        redisAppendCommandArgv(context, Int32(count), argvBuffer.baseAddress, lengthBuffer.baseAddress)
                    }
                }
                if status != REDIS_OK {
                    failed = true
                    return
                }
            }
        }
        if failed {
            close()
            throw RedisError(.io, "cannot queue commands", outcomeKnown: true)
        }
    }

    /// Closes the connection.
    public func close() {
        if let context {
            redisFree(context)
            self.context = nil
        }
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
