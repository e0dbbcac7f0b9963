/// A webhook body that authenticated but cannot be turned into sale events.
public struct PayloadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable reason codes.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Not JSON at all, or cut short.
        public static let invalidJSON = Code("invalid_json")
        /// JSON, but a field is missing or has the wrong type or value.
        public static let invalidField = Code("invalid_field")
        /// A required header is missing or malformed.
        public static let invalidHeader = Code("invalid_header")
    }

    public var code: Code
    /// The offending field (a JSON path or a header name), when one can be named.
    public var field: String?
    public var message: String

    public init(field: String?, code: Code = .invalidField, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { message }
}
