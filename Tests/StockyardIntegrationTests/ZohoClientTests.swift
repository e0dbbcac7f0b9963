import Foundation
import StockyardDevServers
import StockyardOutbound
import StockyardZoho
import Testing

/// The libcurl Zoho client against the sandbox over loopback HTTP: tokens, adjustments, items,
/// locations, Zoho's envelopes, limits and errors.
@Suite struct ZohoClientTests {
    let configuration = SandboxConfiguration(
        refreshTokens: ["1000.refresh.one"], accessTokenSeconds: 3600, callsPerMinute: 20, tokenRequestsPer10Minutes: 3,
        items: [SandboxItem(itemID: "4815000000044208", sku: "BAG-S", stock: ["460000000038080": 12])])

    private func token(_ client: ZohoAPIClient, _ server: SandboxServer) throws -> AccessToken {
        try client.refreshAccessToken(
            accountsURL: server.url, clientID: configuration.clientID, clientSecret: configuration.clientSecret,
            refreshToken: "1000.refresh.one", now: Date().timeIntervalSince1970)
    }

    private func endpoint(_ server: SandboxServer, _ token: AccessToken) -> ZohoEndpoint {
        ZohoEndpoint(apiRoot: (token.apiDomain ?? "") + "/inventory/v1", organizationID: configuration.organizationID, accessToken: token.accessToken)
    }

    @Test func refreshTokenGrantGivesATokenAndTheAPIDomain() async throws {
        let server = try await SandboxServer(configuration)
        defer { server.stop() }
        try await offPool { [self] in
            let client = ZohoAPIClient()
            let before = Date().timeIntervalSince1970
            let token = try token(client, server)
            #expect(token.apiDomain == server.url)
            #expect(token.expiresAt >= before + 3600 && token.expiresAt <= Date().timeIntervalSince1970 + 3600)
            #expect(!token.accessToken.isEmpty)

            #expect {
                try client.refreshAccessToken(
                    accountsURL: server.url, clientID: configuration.clientID, clientSecret: configuration.clientSecret,
                    refreshToken: "1000.revoked", now: 0)
            } throws: { ($0 as? OutboundError)?.code == .credentialsRejected }
        }
    }

    @Test func tokenRequestsBeyondTheLimitAreRefused() async throws {
        let server = try await SandboxServer(configuration)
        defer { server.stop() }
        try await offPool { [self] in
            let client = ZohoAPIClient()
            for _ in 0..<3 { _ = try token(client, server) }
            #expect { try token(client, server) } throws: { ($0 as? OutboundError)?.code == .tokenRequestLimit }
            let stats = try server.stats()
            #expect(stats["token_requests_refused"] as? Int == 1)
            #expect(stats["max_token_requests_in_10_minutes"] as? Int == 3)
        }
    }

    @Test func adjustmentIsCreatedListedNewestFirstAndRead() async throws {
        let server = try await SandboxServer(configuration)
        defer { server.stop() }
        try await offPool { [self] in
            let client = ZohoAPIClient()
            let endpoint = endpoint(server, try token(client, server))
            var created: [Adjustment] = []
            for index in 1...3 {
                let request = AdjustmentRequest(
                    date: "2026-11-23", reason: "Marketplace sales", referenceNumber: "SY-test-\(index)",
                    lineItems: [AdjustmentLine(itemID: "4815000000044208", locationID: "460000000038080", quantityAdjusted: Double(-index))])
                created.append(try client.createAdjustment(request, at: endpoint))
            }
            #expect(created[0].lineItems == [AdjustmentLine(itemID: "4815000000044208", locationID: "460000000038080", quantityAdjusted: -1)])
            #expect(created[2].referenceNumber == "SY-test-3")

            let first = try client.listAdjustments(page: 1, perPage: 2, at: endpoint)
            #expect(first.elements.map(\.referenceNumber) == ["SY-test-3", "SY-test-2"])
            #expect(first.hasMorePage)
            let second = try client.listAdjustments(page: 2, perPage: 2, at: endpoint)
            #expect(second.elements.map(\.referenceNumber) == ["SY-test-1"])
            #expect(!second.hasMorePage)

            let read = try client.adjustment(id: created[1].inventoryAdjustmentID, at: endpoint)
            #expect(read.lineItems?.first?.quantityAdjusted == -2)

            let item = try client.item(id: "4815000000044208", at: endpoint)
            #expect(item.sku == "BAG-S")
            #expect(item.locations == [ItemLocationStock(locationID: "460000000038080", stockOnHand: 6)])
            #expect(try server.nets() == ["4815000000044208/460000000038080": -6])
        }
    }

    @Test func bodiesAreCheckedAgainstTheRequiredFieldsAndTypes() async throws {
        let server = try await SandboxServer(configuration)
        defer { server.stop() }
        try await offPool { [self] in
            let client = ZohoAPIClient()
            let token = try token(client, server)
            let url = "\(server.url)/inventory/v1/inventoryadjustments?organization_id=\(configuration.organizationID)"
            let headers = [("Authorization", "Zoho-oauthtoken \(token.accessToken)"), ("Content-Type", "application/json")]
            let line = #"{"item_id":"4815000000044208","quantity_adjusted":-1}"#
            let cases: [(String, String)] = [
                (#"{"date":"2026-11-23","adjustment_type":"quantity","line_items":[\#(line)]}"#, "reason is required"),
                (#"{"date":"2026-11-23","reason":"r","adjustment_type":"value","line_items":[\#(line)]}"#, "adjustment_type"),
                (#"{"date":"23/11/2026","reason":"r","adjustment_type":"quantity","line_items":[\#(line)]}"#, "date"),
                (#"{"date":"2026-11-23","reason":"r","adjustment_type":"quantity","line_items":[{"item_id":4815000000044208,"quantity_adjusted":-1}]}"#, "line_items[0].item_id"),
                (#"{"date":"2026-11-23","reason":"r","adjustment_type":"quantity","line_items":[{"item_id":"4815000000044208","quantity_adjusted":"-1"}]}"#, "line_items[0].quantity_adjusted"),
                (#"{"date":"2026-11-23","reason":"r","adjustment_type":"quantity","line_items":[{"item_id":"4815000000044208","quantity_adjusted":true}]}"#, "line_items[0].quantity_adjusted"),
                (#"{"date":"2026-11-23","reason":"r","adjustment_type":"quantity","line_items":[]}"#, "line_items"),
                (#"{"date":"2026-11-23","reason":"r","adjustment_type":"quantity","line_items":[{"item_id":"999","quantity_adjusted":-1}]}"#, "Item does not exist"),
            ]
            let http = CurlHTTPClient()
            for (body, expected) in cases {
                let response = try http.request(method: "POST", url: url, headers: headers, body: Array(body.utf8))
                let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
                #expect(response.status == 400, "\(body)")
                #expect((object["message"] as? String)?.contains(expected) == true, "\(body): \(object)")
                #expect((object["code"] as? Int).map { $0 != 0 } == true)
            }
            #expect(try server.nets().isEmpty)
        }
    }

    @Test func expiredTokenIsRefusedWithCode57() async throws {
        let server = try await SandboxServer(configuration)
        defer { server.stop() }
        try await offPool { [self] in
            let client = ZohoAPIClient()
            let endpoint = endpoint(server, try token(client, server))
            _ = try client.listLocations(at: endpoint)
            _ = try server.control.send("POST", "/sandbox/expire-tokens")
            #expect { try client.listLocations(at: endpoint) } throws: { error in
                guard let error = error as? OutboundError else { return false }
                return error.code == .unauthorized && error.status == 401 && error.vendorCode == 57 && error.outcomeKnown
            }
        }
    }

    @Test func callsBeyondThePerMinuteLimitGet429WithRetryAfter() async throws {
        let server = try await SandboxServer(configuration)
        defer { server.stop() }
        try await offPool { [self] in
            let client = ZohoAPIClient()
            let endpoint = endpoint(server, try token(client, server))
            for _ in 0..<20 { _ = try client.listLocations(at: endpoint) }
            #expect { try client.listLocations(at: endpoint) } throws: { error in
                guard let error = error as? OutboundError else { return false }
                return error.code == .rateLimited && error.status == 429 && (error.retryAfter ?? 0) > 0 && (error.retryAfter ?? 99) <= 60
            }
            #expect(client.lastLimitHeaders["retry-after"] != nil)
            #expect(try server.stats()["rate_limited"] as? Int == 1)
        }
    }

    @Test func serverErrorsAndHeldCallsLeaveTheOutcomeUnknown() async throws {
        let server = try await SandboxServer(configuration)
        defer { server.stop() }
        try await offPool { [self] in
            let client = ZohoAPIClient()
            let impatient = ZohoAPIClient(configuration: .init(connectTimeout: 2, totalTimeout: 1))
            let endpoint = endpoint(server, try token(client, server))
            let request = AdjustmentRequest(
                date: "2026-11-23", reason: "r", referenceNumber: "SY-held",
                lineItems: [AdjustmentLine(itemID: "4815000000044208", locationID: "460000000038080", quantityAdjusted: -1)])

            try server.setFaults(["server_error_rate": 1.0])
            #expect { try client.createAdjustment(request, at: endpoint) } throws: { error in
                (error as? OutboundError).map { $0.code == .serverError && !$0.outcomeKnown } ?? false
            }
            try server.setFaults(["apply_then_drop_rate": 1.0, "hold_seconds": 5])
            #expect { try impatient.createAdjustment(request, at: endpoint) } throws: { error in
                (error as? OutboundError).map { $0.code == .network && !$0.outcomeKnown } ?? false
            }
            // The held call was applied: it is in the list, which is how the sync finds it.
            try server.setFaults([:])
            let list = try client.listAdjustments(page: 1, perPage: 200, at: endpoint)
            #expect(list.elements.map(\.referenceNumber) == ["SY-held"])
        }
    }
}
