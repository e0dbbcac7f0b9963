import Foundation
import Testing

/// Each route group's bearer-token rule, route by route, over real HTTP: admin routes take the
/// admin token only, `POST /v1/events` the ingest token too, reads the read token or the admin
/// token when a read token is set (and anyone when none is), webhooks and operations no token.
@Suite(.serialized) struct RouteAccessTests {
    static let ingestToken = "test-ingest-token-0123456789"
    static let readToken = "test-read-token-0123456789"

    /// Every route that takes a bearer token, with the rule it follows.
    static let admin: [(String, String)] = [
        ("PUT", "/v1/listings"), ("PUT", "/v1/stock"), ("PUT", "/v1/allocation-rules"), ("GET", "/v1/dead-letters"),
        ("GET", "/v1/dead-letters/none"), ("POST", "/v1/dead-letters/none/replay"), ("DELETE", "/v1/dead-letters/none"),
        ("PUT", "/v1/items"), ("POST", "/v1/listings/import"), ("POST", "/v1/zoho/reconcile"), ("GET", "/v1/zoho/reconcile"),
    ]
    static let reads: [(String, String)] = [
        ("GET", "/v1/allocation-rules"), ("GET", "/v1/stock/SKU-1"), ("GET", "/v1/listings/shopify/V-1"),
        ("GET", "/v1/listings/shopify/V-1/sellable"), ("GET", "/v1/unmapped"), ("GET", "/v1/lookups"),
    ]
    static let open: [(String, String)] = [("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")]

    func status(_ service: ServiceProcess, _ token: String?, _ route: (String, String)) throws -> Int {
        try APIClient(baseURL: service.baseURL, token: token).send(route.0, route.1, body: route.0 == "GET" || route.0 == "DELETE" ? nil : Array("{}".utf8)).status
    }

    @Test func everyRouteFollowsItsGroupsTokenRule() async throws {
        try await offPool { [self] in
            let service = try ServiceProcess(
                redisURL: SharedRedis.url, environment: ["STOCKYARD_INGEST_TOKEN": Self.ingestToken, "STOCKYARD_READ_TOKEN": Self.readToken])
            let wrong = "not-a-token-of-this-service-0000"
            for route in Self.admin {
                for token in [nil, wrong, Self.ingestToken, Self.readToken] {
                    #expect(try status(service, token, route) == 401, "\(route) with \(token ?? "no token")")
                }
                #expect(try status(service, ServiceProcess.adminToken, route) != 401, "\(route) with the admin token")
            }
            let events = ("POST", "/v1/events")
            for token in [nil, wrong, Self.readToken] {
                #expect(try status(service, token, events) == 401, "events with \(token ?? "no token")")
            }
            for token in [Self.ingestToken, ServiceProcess.adminToken] {
                #expect(try status(service, token, events) != 401, "events with \(token)")
            }
            for route in Self.reads {
                for token in [nil, wrong, Self.ingestToken] {
                    #expect(try status(service, token, route) == 401, "\(route) with \(token ?? "no token")")
                }
                for token in [Self.readToken, ServiceProcess.adminToken] {
                    #expect(try status(service, token, route) != 401, "\(route) with \(token)")
                }
            }
            for route in Self.open {
                #expect(try status(service, nil, route) == 200, "\(route)")
            }
        }
    }

    @Test func withoutAReadTokenReadsAreOpenAndWritesAreNot() async throws {
        try await offPool { [self] in
            let service = try ServiceProcess(redisURL: SharedRedis.url)
            for route in Self.reads {
                #expect(try status(service, nil, route) != 401, "\(route)")
            }
            for route in Self.admin {
                #expect(try status(service, nil, route) == 401, "\(route)")
            }
        }
    }
}
