import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import StockyardChannels
import StockyardCore
import StockyardEngine
import StockyardMarketplaces
import StockyardOutbound
import StockyardZoho

/// The HTTP API: what its routes share (the engine, the Zoho sync, the look-ups, settings and
/// metrics) and the helpers for JSON in and out. Each area's routes are a route collection in a
/// file named after it.
struct StockyardAPI: Sendable {
    let configuration: ServerConfiguration
    let writer: LedgerWriter
    let metrics: StockyardMetrics
    let zohoSync: ZohoSync?
    let lookups: LookupService

    func register(on router: Router<BasicRequestContext>) {
        router.addRoutes(operationsRoutes)
        router.addRoutes(stockRoutes)
        router.addRoutes(webhookRoutes)
        router.addRoutes(lookupRoutes)
        router.addRoutes(inboxRoutes)
        router.addRoutes(zohoRoutes)
    }

    /// The bearer-token check for a group of routes.
    func bearer(_ access: BearerTokenMiddleware<BasicRequestContext>.Access) -> BearerTokenMiddleware<BasicRequestContext> {
        BearerTokenMiddleware(access, configuration: configuration)
    }

    func submit<Request: WriterRequest>(_ request: Request, path: String, context: BasicRequestContext) async throws -> Request.Answer {
        do {
            return try await writer.submit(request)
        } catch let error as InvalidJobError {
            throw APIError(.badRequest, .invalidField, error.problem.message, field: "\(path)[\(error.index)].\(error.problem.field)")
        } catch let error as StoreUnavailableError {
            context.logger.warning("write refused", metadata: ["reason": "\(error.reason)"])
            throw APIError.unavailable(error, retryAfter: configuration.retryAfterSeconds)
        }
    }

    // MARK: Helpers

    /// A list in a request body holds 1 to `maxEventsPerRequest` entries.
    func checkCount(_ count: Int, field: String) throws {
        guard count > 0 else {
            throw APIError(.badRequest, .invalidField, "\(field) must hold at least one entry", field: field)
        }
        guard count <= configuration.maxEventsPerRequest else {
            throw APIError(
                .contentTooLarge, .bodyTooLarge, "at most \(configuration.maxEventsPerRequest) entries per request",
                field: field)
        }
    }

    func listingKey(_ context: BasicRequestContext) throws -> ListingKey {
        let name = try parameter(context, "channel")
        guard let channel = Channel(name: name) else {
            throw APIError(.notFound, .notFound, "unknown channel '\(name)'", field: "channel")
        }
        return ListingKey(channel: channel, listingID: try parameter(context, "listing_id"))
    }

    func parameter(_ context: BasicRequestContext, _ name: String) throws -> String {
        guard let raw = context.parameters.get(name) else {
            throw APIError(.badRequest, .invalidField, "\(name) is missing", field: name)
        }
        return raw.removingPercentEncoding ?? raw
    }

    func decode<Body: Decodable>(_ request: Request, _ context: BasicRequestContext) async throws -> Body {
        try decodeJSON(Body.self, try await collectBody(request))
    }

    /// The request body, after checking its media type and size.
    func collectBody(_ request: Request) async throws -> ByteBuffer {
        if let type = request.headers[.contentType]?.lowercased(), type != "application/json",
            !type.hasPrefix("application/json;")
        {
            throw APIError(.unsupportedMediaType, .unsupportedMediaType, "the body must be application/json", field: "Content-Type")
        }
        do {
            return try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(
                .contentTooLarge, .bodyTooLarge, "the body exceeds the limit of \(configuration.maxBodyBytes) bytes")
        }
    }

    /// Decodes a body once it has been checked whole: JSONDecoder would repair bytes that are
    /// not UTF-8, keep one of two fields of the same name, and read `0.99999999999999999999` as
    /// 1 and `1e-400` as 0, so those are refused first, naming the field.
    func decodeJSON<Body: Decodable>(_ type: Body.Type, _ buffer: ByteBuffer) throws -> Body {
        do {
            try buffer.withUnsafeReadableBytes { (body) throws(PayloadError) in
                var scanner = JSONScanner(body)
                try scanner.checkDocument()
            }
        } catch let error as PayloadError {
            throw APIError(.badRequest, APIError.Code(error.code.rawValue), error.message, field: error.field)
        }
        do {
            return try JSONDecoder().decode(Body.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError(decoding: error)
        }
    }
}

func jsonResponse(_ text: String) -> Response {
    jsonResponse(Array(text.utf8))
}

func jsonResponse(_ bytes: [UInt8]) -> Response {
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

func writeCounts(_ counts: ResultCounts, into writer: inout JSONWriter) {
    writer.raw("{")
    for (index, result) in EventResult.allCases.enumerated() {
        if index > 0 { writer.raw(",") }
        writer.string(result.name)
        writer.raw(":")
        writer.number(counts[result])
    }
    writer.raw("}")
}

/// Compares secrets in time that does not depend on where they differ.
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
    for index in 0..<max(a.count, b.count) {
        let x = index < a.count ? a[index] : 0
        let y = index < b.count ? b[index] : 0
        difference |= x ^ y
    }
    return difference == 0
}

extension JSONWriter {
    mutating func bytesAppend(_ text: String) {
        for byte in text.utf8 { appendByte(byte) }
    }
}

extension APIError {
    /// A field-level error from a JSON decoding failure.
    init(decoding error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String {
            var result = ""
            for key in codingPath {
                if let index = key.intValue {
                    result += "[\(index)]"
                } else {
                    result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return result
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            self.init(.badRequest, .invalidField, "\(field) is required", field: field)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            self.init(.badRequest, .invalidField, "\(field.isEmpty ? "the body" : field) has the wrong type (expected \(Self.typeName(type)))", field: field.isEmpty ? nil : field)
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            self.init(.badRequest, .invalidField, "\(field) must not be null (expected \(Self.typeName(type)))", field: field)
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty {
                self.init(.badRequest, .invalidJSON, "the body is not valid JSON")
            } else {
                self.init(.badRequest, .invalidField, "\(field) \(context.debugDescription)", field: field)
            }
        @unknown default:
            self.init(.badRequest, .invalidJSON, "the body could not be read")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Int64.Type, is Int.Type, is UInt64.Type: "integer"
        case is Double.Type: "number"
        case is Array<Any>.Type: "array"
        default: "\(type)".contains("Array") ? "array" : "\(type)".contains("Dictionary") ? "object" : "\(type)"
        }
    }
}
