import Foundation
import StockyardRedis
import Testing

/// The Redis connection against a real server: commands written in Redis's protocol by the
/// connection itself, and transaction outcomes read as summaries.
@Suite struct RedisConnectionTests {
    let connection: RedisConnection
    let store: RedisStore
    let key: String

    init() throws {
        let configuration = try SharedRedis.configuration()
        connection = try RedisConnection(configuration: configuration)
        store = RedisStore(connection: connection)
        key = "\(configuration.keyPrefix):connection-test"
    }

    /// A transaction of `commands` between MULTI and EXEC.
    func transaction(_ commands: [[String]]) -> RedisCommandBuffer {
        var buffer = RedisCommandBuffer()
        buffer.command("MULTI")
        for command in commands {
            buffer.begin(command[0])
            for argument in command.dropFirst() { buffer.argument(argument) }
            buffer.end()
        }
        buffer.command("EXEC")
        return buffer
    }

    @Test func argumentsArriveByteForByte() throws {
        // Bytes that mean something in the protocol, empty values, long values, non-ASCII text.
        let values: [[UInt8]] = [
            Array("a\r\nb".utf8), [0, 13, 10, 36, 42, 0], [], Array(repeating: 0x78, count: 100_000),
            Array("Grüße, 東京 🚚".utf8), Array("$5\r\nhello\r\n".utf8), (0...255).map { UInt8($0) },
        ]
        var buffer = RedisCommandBuffer()
        buffer.command("MULTI")
        for (index, value) in values.enumerated() {
            buffer.begin("HSET")
            buffer.argument(key)
            buffer.argument("field-\(index)")
            buffer.argument(value)
            buffer.end()
        }
        buffer.command("EXEC")
        try store.execute(buffer)
        for (index, value) in values.enumerated() {
            #expect(try connection.command(["HGET", key, "field-\(index)"]) == .string(value))
        }
        _ = try connection.command(["DEL", key])
    }

    @Test func commandCountsOfEveryWidthArePrefixedRightly() throws {
        // 1, 10, 100 and 1,000 fields: the `*<count>` header takes 1 to 4 digits.
        for count in [1, 10, 100, 1_000] {
            var buffer = RedisCommandBuffer()
            buffer.begin("RPUSH")
            buffer.argument(key)
            for index in 0..<count { buffer.argument(Int64(index)) }
            buffer.end()
            let replies = try connection.pipeline(buffer)
            #expect(replies == [.integer(Int64(count))])
            #expect(try connection.command(["LINDEX", key, "-1"]) == .string(Array(String(count - 1).utf8)))
            _ = try connection.command(["DEL", key])
        }
    }

    @Test func aCommittedTransactionIsChecked() throws {
        let buffer = transaction([["HSET", key, "a", "1"], ["HSET", key, "b", "2"], ["HINCRBY", key, "a", "5"]])
        try store.execute(buffer)
        #expect(try connection.command(["HGET", key, "a"]) == .string(Array("6".utf8)))
        // Ordinary replies are whole reply objects again afterwards.
        #expect(try connection.command(["PING"]) == .status("PONG"))
        #expect(try connection.command(["HGETALL", key]) == .array([.string(Array("a".utf8)), .string(Array("6".utf8)), .string(Array("b".utf8)), .string(Array("2".utf8))]))
        _ = try connection.command(["DEL", key])
    }

    @Test func aCommandFailingInsideTheTransactionIsReported() throws {
        _ = try connection.command(["SET", key, "a string"])
        // HSET on a string fails when EXEC runs it: the EXEC array holds the error.
        let buffer = transaction([["INCR", "\(key):counter"], ["HSET", key, "field", "value"]])
        do {
            try store.execute(buffer)
            Issue.record("a failed command went unnoticed")
        } catch {
            #expect(error.code == .server)
            #expect(error.message.hasPrefix("command failed in transaction: WRONGTYPE"))
        }
        // The connection reads on after the failure.
        #expect(try connection.command(["GET", key]) == .string(Array("a string".utf8)))
        _ = try connection.command(["DEL", key, "\(key):counter"])
    }

    @Test func aTransactionRefusedBeforeItRunsIsReported() throws {
        // A command with the wrong number of arguments is refused when queued, and EXEC then
        // refuses the whole transaction.
        let buffer = transaction([["SET", key, "1"], ["HSET", key]])
        do {
            try store.execute(buffer)
            Issue.record("a refused transaction went unnoticed")
        } catch {
            #expect(error.code == .server)
            #expect(error.message.hasPrefix("transaction failed: EXECABORT"))
        }
        #expect(try connection.command(["EXISTS", key]) == .integer(0))
    }

    @Test func summariesCarryTypeElementsAndTheFirstError() throws {
        _ = try connection.command(["SET", key, "a string"])
        // HSET and INCR fail on a string; GET does not.
        var buffer = transaction([["HSET", key, "f", "v"], ["INCR", key], ["GET", key]])
        buffer.command("PING")
        try connection.send(buffer)
        var summaries: [RedisReplySummary] = []
        for _ in 0..<buffer.commandCount { summaries.append(try connection.readSummary()) }
        #expect(summaries.map(\.kind) == [.status, .status, .status, .status, .array, .status])
        #expect(summaries.map(\.errors) == [0, 0, 0, 0, 2, 0])
        #expect(summaries[4].elements == 3)
        #expect(summaries[4].error?.hasPrefix("WRONGTYPE") == true)
        _ = try connection.command(["DEL", key])
    }

    @Test func aLongErrorIsCutNotOverrun() throws {
        // A script can answer an error of any length.
        var buffer = RedisCommandBuffer()
        buffer.command("EVAL", "return redis.error_reply('LONG ' .. string.rep('x', 1000))", "0")
        try connection.send(buffer)
        let summary = try connection.readSummary()
        #expect(summary.kind == .error)
        #expect(summary.errors == 1)
        #expect(summary.error == "LONG " + String(repeating: "x", count: 250))
        #expect(try connection.command(["PING"]) == .status("PONG"))
    }
}
