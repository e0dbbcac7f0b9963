/// What the outbound layer keeps across restarts: cached access tokens, the times of recent
/// token requests and API calls, each API's daily count and any pause a vendor asked for. Small
/// commands on a connection of their own, never on the writer's.
extension RedisStore {
    /// A record stored under `key`, if any.
    public func record(at key: String) throws(RedisError) -> [UInt8]? {
        switch try connection.command(["GET", key]) {
        case .string(let bytes): return bytes
        case .null: return nil
        case .error(let message): throw RedisError(.server, message)
        default: throw RedisError(.unexpectedReply, "GET \(key)")
        }
    }

    /// Stores a record under `key` for `expiresInSeconds`.
    public func setRecord(_ record: [UInt8], at key: String, expiresInSeconds: Int) throws(RedisError) {
        var buffer = RedisCommandBuffer()
        buffer.begin("SET")
        buffer.argument(key)
        buffer.argument(record)
        buffer.argument("EX")
        buffer.argument(String(max(1, expiresInSeconds)))
        buffer.end()
        try check(try connection.pipeline(buffer))
    }

    /// Records an event at `milliseconds` in the sorted set `key`, forgetting those older than
    /// `keepMilliseconds`; with `dayKey`, also counts it for that day (kept two days).
    public func recordTime(milliseconds: Int64, at key: String, keepMilliseconds: Int64, dayKey: String? = nil) throws(RedisError) {
        var commands = [
            ["ZADD", key, String(milliseconds), "\(milliseconds)-\(UInt32.random(in: 0...UInt32.max))"],
            ["ZREMRANGEBYSCORE", key, "-inf", "(" + String(milliseconds - keepMilliseconds)],
            ["PEXPIRE", key, String(keepMilliseconds)],
        ]
        if let dayKey { commands += [["INCR", dayKey], ["EXPIRE", dayKey, "172800"]] }
        try check(try connection.pipeline(Self.buffer(commands)))
    }

    /// Times recorded in `key` since `sinceMilliseconds`, oldest first; with `dayKey`, that
    /// day's count; with `pauseKey`, the pause stored there.
    public func recordedTimes(
        at key: String, sinceMilliseconds: Int64, dayKey: String? = nil, pauseKey: String? = nil
    ) throws(RedisError) -> (times: [Int64], day: Int, pausedUntil: Int64) {
        var commands = [["ZRANGEBYSCORE", key, String(sinceMilliseconds), "+inf", "WITHSCORES"]]
        if let dayKey { commands.append(["GET", dayKey]) }
        if let pauseKey { commands.append(["GET", pauseKey]) }
        let replies = try connection.pipeline(Self.buffer(commands))
        try check(replies)
        var times: [Int64] = []
        if case .array(let values) = replies[0] {
            var index = 1
            while index < values.count {
                if let score = values[index].text.flatMap({ Double($0) }) { times.append(Int64(score)) }
                index += 2
            }
        }
        let day = dayKey == nil ? 0 : replies[1].text.flatMap { Int($0) } ?? 0
        let paused = pauseKey == nil ? 0 : replies[replies.count - 1].text.flatMap { Int64($0) } ?? 0
        return (times, day, paused)
    }

    /// Stores a pause until `milliseconds`, unless a later one is stored; it expires with itself.
    public func setPause(untilMilliseconds milliseconds: Int64, at key: String, nowMilliseconds: Int64) throws(RedisError) {
        guard milliseconds > nowMilliseconds else { return }
        // GT keeps the later of two pauses; PX lets the key vanish once the pause is over.
        let commands = [["SET", key, String(milliseconds), "PX", String(milliseconds - nowMilliseconds), "GET"]]
        let replies = try connection.pipeline(Self.buffer(commands))
        try check(replies)
        if let previous = replies[0].text.flatMap({ Int64($0) }), previous > milliseconds {
            try check(try connection.pipeline(Self.buffer([["SET", key, String(previous), "PX", String(previous - nowMilliseconds)]])))
        }
    }

    private static func buffer(_ commands: [[String]]) -> RedisCommandBuffer {
        var buffer = RedisCommandBuffer()
        for command in commands {
            buffer.begin(command[0])
            for argument in command.dropFirst() { buffer.argument(argument) }
            buffer.end()
        }
        return buffer
    }

    private func check(_ replies: [RedisReply]) throws(RedisError) {
        for reply in replies {
            if case .error(let message) = reply { throw RedisError(.server, message) }
        }
    }
}
