import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A stand-in for Zoho over real HTTP: the accounts server's token endpoint and the Inventory
/// API's adjustments, items and locations, with Zoho's envelopes, limits and errors, and faults
/// to inject. It keeps everything in memory and reports what it received under `/sandbox/`.
public final class ZohoSandbox: Sendable {
    public let configuration: SandboxConfiguration
    private let state: Mutex<SandboxState>
    /// The base URL once listening (`http://host:port`).
    private let base = Mutex<String>("")

    public init(configuration: SandboxConfiguration) {
        self.configuration = configuration
        self.state = Mutex(SandboxState(configuration: configuration))
    }

    /// The base URL, once the server listens.
    public var baseURL: String { base.withLock { $0 } }

    /// The Hummingbird application; `onListening` gets the port.
    public func makeApplication(logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        register(on: router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "zoho-sandbox"),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? configuration.port
                base.withLock { $0 = "http://\(configuration.host):\(port)" }
                logger.info("Zoho sandbox listening", metadata: ["port": "\(port)", "organization_id": "\(configuration.organizationID)"])
                await onListening(port)
            },
            logger: logger
        )
    }

    private static var now: Double { Date().timeIntervalSince1970 }

    func register(on router: Router<BasicRequestContext>) {
        router.post("/oauth/v2/token") { request, _ in
            var form = request.uri.queryParameters.reduce(into: [String: String]()) { $0[String($1.key)] = String($1.value) }
            let body = try await request.body.collect(upTo: 65_536)
            for (key, value) in Self.formFields(String(buffer: body)) { form[key] = value }
            let answer = self.state.withLock { $0.token(form, now: Self.now) }
            return self.response(answer)
        }

        let api = router.group("inventory/v1")
        api.post("inventoryadjustments") { request, _ in
            let body = try await request.body.collect(upTo: 4 << 20)
            return try await self.call(request) { state in
                let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))
                return state.createAdjustment(json, now: Self.now)
            }
        }
        api.get("inventoryadjustments") { request, _ in
            try await self.call(request) { state in
                switch Self.paging(request) {
                case .failure(let error): error.answer
                case .success(let (page, perPage)): state.listAdjustments(page: page, perPage: perPage)
                }
            }
        }
        api.get("inventoryadjustments/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await self.call(request) { $0.adjustment(id: id) }
        }
        api.get("items") { request, _ in
            try await self.call(request) { state in
                switch Self.paging(request) {
                case .failure(let error): error.answer
                case .success(let (page, perPage)): state.listItems(page: page, perPage: perPage)
                }
            }
        }
        api.get("items/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await self.call(request) { $0.item(id: id) }
        }
        api.get("locations") { request, _ in
            try await self.call(request) { $0.listLocations() }
        }

        // Control and inspection, for tests and load scripts.
        let control = router.group("sandbox")
        control.get("nets") { _, _ in
            let nets = self.state.withLock { $0.nets }
            let list = nets.keys.sorted().map { key -> [String: any Sendable] in
                let parts = key.split(separator: "\u{1F}", omittingEmptySubsequences: false)
                return ["item_id": String(parts[0]), "location_id": String(parts[1]), "quantity": nets[key]!]
            }
            return self.response(SandboxAnswer(status: 200, body: ["nets": list]))
        }
        control.get("stats") { _, _ in
            let (stats, faults, adjustments) = self.state.withLock { ($0.stats, $0.faults, $0.adjustments.count) }
            return self.response(
                SandboxAnswer(
                    status: 200,
                    body: [
                        "calls": stats.calls, "max_calls_in_a_minute": stats.maxCallsInAMinute, "rate_limited": stats.rateLimited,
                        "unauthorized": stats.unauthorized, "faults_injected": stats.injected,
                        "applied_then_dropped": stats.appliedThenDropped, "adjustments": adjustments,
                        "lines_received": stats.linesReceived, "token_requests": stats.tokenRequests,
                        "token_requests_refused": stats.tokenRequestsRefused, "tokens_issued": stats.tokensIssued,
                        "max_token_requests_in_10_minutes": stats.maxTokenRequestsIn10Minutes,
                        "calls_per_minute_limit": self.configuration.callsPerMinute,
                        "faults": [
                            "latency_ms": faults.latencyMilliseconds, "server_error_rate": faults.serverErrorRate,
                            "timeout_rate": faults.timeoutRate, "apply_then_drop_rate": faults.applyThenDropRate,
                            "rate_limit_rate": faults.rateLimitRate, "hold_seconds": faults.holdSeconds,
                            "retry_after_as_date": faults.retryAfterAsDate,
                        ] as [String: any Sendable],
                    ]))
        }
        control.put("faults") { request, _ in
            let body = try await request.body.collect(upTo: 65_536)
            guard let faults = try? JSONDecoder().decode(SandboxFaults.self, from: Data(body.readableBytesView)) else {
                return self.response(.zoho(400, code: 4, "faults: expected {latency_ms, server_error_rate, timeout_rate, apply_then_drop_rate, rate_limit_rate, hold_seconds, retry_after_as_date}"))
            }
            self.state.withLock { $0.faults = faults }
            return self.response(SandboxAnswer(status: 200, body: ["code": 0, "message": "faults set"]))
        }
        control.put("items") { request, _ in
            let body = try await request.body.collect(upTo: 16 << 20)
            guard let items = try? JSONDecoder().decode([SandboxItem].self, from: Data(body.readableBytesView)) else {
                return self.response(.zoho(400, code: 4, "items: expected [{item_id, sku, stock: {location_id: quantity}}]"))
            }
            self.state.withLock { state in for item in items { state.upsert(item) } }
            return self.response(SandboxAnswer(status: 200, body: ["code": 0, "message": "\(items.count) items stored"]))
        }
        control.post("expire-tokens") { _, _ in
            let count = self.state.withLock { state in
                let count = state.accessTokens.count
                state.accessTokens.removeAll()
                return count
            }
            return self.response(SandboxAnswer(status: 200, body: ["code": 0, "message": "\(count) access tokens expired"]))
        }
        control.post("revoke-refresh-tokens") { _, _ in
            self.state.withLock { $0.refreshTokens.removeAll() }
            return self.response(SandboxAnswer(status: 200, body: ["code": 0, "message": "refresh tokens revoked"]))
        }
        control.post("refresh-tokens") { request, _ in
            let body = try await request.body.collect(upTo: 4096)
            let token = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { return self.response(.zoho(400, code: 4, "the body must be a refresh token")) }
            self.state.withLock { _ = $0.refreshTokens.insert(token) }
            return self.response(SandboxAnswer(status: 200, body: ["code": 0, "message": "refresh token accepted"]))
        }
    }

    /// Runs an API call through the gate (token, organization, limits, faults), then `body`.
    private func call(_ request: Request, _ body: @escaping @Sendable (inout SandboxState) -> SandboxAnswer) async throws -> Response {
        let organization = request.uri.queryParameters.get("organization_id")
        let authorization = request.headers[.authorization]
        let (answer, latency) = state.withLock { state -> (SandboxAnswer, Int) in
            let answer = state.admit(organizationID: organization, authorization: authorization, now: Self.now) ?? body(&state)
            return (answer, state.faults.latencyMilliseconds)
        }
        if latency > 0 { try await Task.sleep(for: .milliseconds(latency)) }
        if let hold = answer.holdSeconds {
            // The client gives up first and cannot know whether the call did anything.
            try await Task.sleep(for: .milliseconds(Int(hold * 1000)))
        }
        return response(answer)
    }

    private func response(_ answer: SandboxAnswer) -> Response {
        var fields: HTTPFields = [.contentType: "application/json;charset=UTF-8"]
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        var body = (try? JSONSerialization.data(withJSONObject: answer.body, options: [.sortedKeys])) ?? Data("{}".utf8)
        if String(decoding: body, as: UTF8.self).contains("API_DOMAIN") {
            body = Data(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "API_DOMAIN", with: baseURL).utf8)
        }
        return Response(status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func paging(_ request: Request) -> Result<(Int, Int), SandboxAnswerError> {
        let query = request.uri.queryParameters
        let page = query.get("page").map { Int($0) } ?? 1
        let perPage = query.get("per_page").map { Int($0) } ?? 200
        guard let page, page >= 1 else { return .failure(SandboxAnswerError(.zoho(400, code: 4, "Invalid value passed for page"))) }
        guard let perPage, (1...200).contains(perPage) else {
            return .failure(SandboxAnswerError(.zoho(400, code: 4, "Invalid value passed for per_page")))
        }
        return .success((page, perPage))
    }

    static func formFields(_ text: String) -> [(String, String)] {
        text.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            let decode = { (part: Substring) in part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part) }
            return (decode(parts[0]), decode(parts[1]))
        }
    }
}

/// An answer carried as a failure of paging.
struct SandboxAnswerError: Error {
    var answer: SandboxAnswer
    init(_ answer: SandboxAnswer) { self.answer = answer }
}
