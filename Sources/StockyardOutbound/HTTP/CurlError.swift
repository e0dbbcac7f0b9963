/// A failed HTTP exchange.
public struct CurlError: Error, Sendable, CustomStringConvertible {
    /// libcurl's result code.
    public var code: Int
    public var message: String
    /// False when the request may have reached the server (sent, then no complete answer).
    public var outcomeKnown: Bool

    public var description: String { "http client error \(code): \(message)" }
}
