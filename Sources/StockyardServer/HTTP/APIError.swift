import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StockyardEngine
import StockyardMarketplaces
import StockyardOutbound
import StockyardZoho

/// An error answered as JSON: `{"error":{"code","message","field"}}`.
public struct APIError: Error, HTTPResponseError, Sendable {
    /// A stable, machine-readable error code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidJSON = Code("invalid_json")
        public static let invalidField = Code("invalid_field")
        public static let unauthorized = Code("unauthorized")
        public static let notFound = Code("not_found")
        public static let bodyTooLarge = Code("body_too_large")
        public static let storeUnavailable = Code("store_unavailable")
        /// The write was sent and Redis never answered: it may have been stored.
        public static let outcomeUnknown = Code("outcome_unknown")
        public static let unsupportedMediaType = Code("unsupported_media_type")
        public static let internalError = Code("internal_error")
    }

    public var status: HTTPResponse.Status
    public var code: Code
    public var message: String
    public var field: String?
    public var retryAfterSeconds: Int?

    public init(_ status: HTTPResponse.Status, _ code: Code, _ message: String, field: String? = nil, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var headers: HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        return headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var writer = JSONWriter()
        writer.raw("{\"error\":{\"code\":")
        writer.string(code.rawValue)
        writer.raw(",\"message\":")
        writer.string(message)
        if let field {
            writer.raw(",\"field\":")
            writer.string(field)
        }
        writer.raw("}}")
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }

    static func zohoOff() -> APIError {
        APIError(.conflict, Code("zoho_sync_off"), "Zoho sync is off: no Zoho credentials are configured")
    }

    static func unauthorized() -> APIError {
        APIError(.unauthorized, .unauthorized, "a valid bearer token is required in the Authorization header")
    }

    static func unavailable(_ reason: String, retryAfter: Int) -> APIError {
        APIError(.serviceUnavailable, .storeUnavailable, "\(reason); nothing was stored, retry later", retryAfterSeconds: retryAfter)
    }

    /// 503 for a write the store refused; when Redis may have taken it without answering, says so
    /// (`outcome_unknown`) rather than that nothing was stored.
    static func unavailable(_ error: StoreUnavailableError, retryAfter: Int) -> APIError {
        guard error.outcomeUnknown else { return unavailable(error.reason, retryAfter: retryAfter) }
        return APIError(
            .serviceUnavailable, .outcomeUnknown, "\(error.reason); it may have been stored, and retrying it is safe",
            retryAfterSeconds: retryAfter)
    }
}
