/// An error talking to Redis.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let value: String
        /// Could not connect.
        public static let connection = Code(value: "connection")
        /// The connection failed while a command was in flight.
        public static let io = Code(value: "io")
        /// Redis answered with an error.
        public static let server = Code(value: "server")
        /// Redis answered something we did not expect.
        public static let unexpectedReply = Code(value: "unexpected_reply")
        /// The configuration is unusable.
        public static let configuration = Code(value: "configuration")
        /// Stored data could not be decoded.
        public static let corruptData = Code(value: "corrupt_data")

        public var description: String { value }
    }

    public var code: Code
    public var message: String
    /// False when commands may or may not have been applied (the connection broke mid-flight).
    public var outcomeKnown: Bool

    public init(_ code: Code, _ message: String, outcomeKnown: Bool = true) {
        self.code = code
        self.message = message
        self.outcomeKnown = outcomeKnown
    }

    public var description: String { "redis \(code): \(message)" }
}
