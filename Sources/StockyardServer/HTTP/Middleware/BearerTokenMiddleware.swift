import Foundation
import Hummingbird

/// The bearer-token check of a group of routes, before its handlers run: 401 and nothing read
/// when the `Authorization: Bearer` token is not one the group accepts. Tokens are compared in
/// time that does not depend on where they differ.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Who may call the group's routes.
    enum Access: Sendable {
        /// The admin token.
        case admin
        /// The ingest token or the admin token (sale events).
        case ingest
        /// The read token or the admin token; anyone when no read token is set.
        case read
    }

    /// The tokens accepted, as bytes; empty when the routes are open.
    private let accepted: [[UInt8]]

    init(_ access: Access, configuration: ServerConfiguration) {
        let tokens: [String?]
        switch access {
        case .admin: tokens = [configuration.adminToken]
        case .ingest: tokens = [configuration.adminToken, configuration.ingestToken]
        case .read: tokens = configuration.readToken == nil ? [] : [configuration.readToken, configuration.adminToken]
        }
        accepted = tokens.compactMap { $0.map { Array($0.utf8) } }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if !accepted.isEmpty {
            guard let presented = Self.bearerToken(request).map({ Array($0.utf8) }) else { throw APIError.unauthorized() }
            var matched = false
            for token in accepted where constantTimeEquals(presented, token) { matched = true }
            guard matched else { throw APIError.unauthorized() }
        }
        return try await next(request, context)
    }

    /// The token of an `Authorization: Bearer <token>` header (the scheme in any case).
    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let prefix = "Bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix("bearer ") else { return nil }
        return String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
    }
}
