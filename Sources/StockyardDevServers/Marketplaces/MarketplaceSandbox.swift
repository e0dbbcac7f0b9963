import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import StockyardChannels
import Synchronization

/// A stand-in for eBay's and Etsy's APIs over real HTTP: both vendors' token endpoints, eBay's
/// notification public keys and order look-ups, Etsy's receipt look-ups, with the vendors'
/// answers, limits and errors, and faults to inject. Orders and receipts are given under
/// `/sandbox/`, which answers with the signed notification each vendor would send. It keeps
/// everything in memory.
public final class MarketplaceSandbox: Sendable {
    public let configuration: MarketplaceSandboxConfiguration
    private let state: Mutex<MarketplaceState>
    private let signer: NotificationSigner
    /// The base URL once listening (`http://host:port`).
    private let base = Mutex<String>("")

    /// Public keys that verify eBay notifications, by key id, as PEM.
    public let ebayPublicKeys: [String: String]

    /// Checks the configuration and makes a fresh eBay signing key.
    public init(configuration: MarketplaceSandboxConfiguration) throws(MarketplaceSandboxSettingError) {
        func require(_ condition: Bool, _ message: String) throws(MarketplaceSandboxSettingError) {
            if !condition { throw MarketplaceSandboxSettingError(description: message) }
        }
        try require(!configuration.ebayClientID.isEmpty, "the eBay client id must not be empty")
        try require(!configuration.ebayClientSecret.isEmpty, "the eBay client secret must not be empty")
        try require(!configuration.ebayRefreshToken.isEmpty, "the eBay refresh token must not be empty")
        try require(!configuration.ebayKeyID.isEmpty, "the eBay key id must not be empty")
        try require(configuration.ebayTokenSeconds >= 1, "eBay token seconds must be at least 1")
        try require(configuration.ebayCallsPerSecond >= 1, "eBay calls per second must be at least 1")
        try require(!configuration.etsyKeystring.isEmpty, "the Etsy keystring must not be empty")
        try require(!configuration.etsySharedSecret.isEmpty, "the Etsy shared secret must not be empty")
        try require(!configuration.etsyRefreshToken.isEmpty, "the Etsy refresh token must not be empty")
        try require(configuration.etsyUserID >= 1, "the Etsy user id must be a positive number")
        try require(configuration.etsyTokenSeconds >= 1, "Etsy token seconds must be at least 1")
        try require(configuration.etsyCallsPerSecond >= 1, "Etsy calls per second must be at least 1")
        try require(configuration.etsyCallsPerDay >= 1, "Etsy calls per day must be at least 1")
        guard let secret = StandardWebhookSecret(configuration.etsyWebhookSecret) else {
            throw MarketplaceSandboxSettingError(description: "the Etsy webhook secret must be whsec_ followed by base64")
        }
        let key = P256.Signing.PrivateKey()
        self.configuration = configuration
        self.ebayPublicKeys = [configuration.ebayKeyID: key.publicKey.pemRepresentation]
        self.signer = NotificationSigner(ebayKey: key, ebayKeyID: configuration.ebayKeyID, etsySecret: secret)
        self.state = Mutex(MarketplaceState(configuration: configuration, ebayPublicKeys: ebayPublicKeys))
    }

    /// The base URL, once the server listens.
    public var baseURL: String { base.withLock { $0 } }

    /// The Hummingbird application; `onListening` gets the port.
    public func makeApplication(logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        register(on: router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "marketplace-sandbox"),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? configuration.port
                base.withLock { $0 = "http://\(configuration.host):\(port)" }
                logger.info(
                    "Marketplace sandbox listening",
                    metadata: [
                        "port": "\(port)", "ebay_client_id": "\(configuration.ebayClientID)", "ebay_key_id": "\(configuration.ebayKeyID)",
                        "etsy_keystring": "\(configuration.etsyKeystring)",
                    ])
                await onListening(port)
            },
            logger: logger
        )
    }

    private static var now: Double { Date().timeIntervalSince1970 }

    func register(on router: Router<BasicRequestContext>) {
        // eBay.
        router.post("identity/v1/oauth2/token") { request, _ in
            let form = Self.formFields(try await request.body.collect(upTo: 65_536))
            let authorization = request.headers[.authorization]
            return try await self.vendorCall { state, fault, now in
                state.ebay.token(authorization: authorization, form: form, now: now, fault: fault)
            }
        }
        router.get("commerce/notification/v1/public_key/:public_key_id") { request, context in
            let id = Self.parameter(context, "public_key_id")
            let authorization = request.headers[.authorization]
            return try await self.vendorCall { state, fault, now in
                state.ebay.publicKey(id: id, authorization: authorization, now: now, fault: fault)
            }
        }
        router.get("sell/fulfillment/v1/order/:orderId") { request, context in
            let id = Self.parameter(context, "orderId")
            let authorization = request.headers[.authorization]
            return try await self.vendorCall { state, fault, now in
                state.ebay.order(id: id, authorization: authorization, now: now, fault: fault)
            }
        }

        // Etsy.
        router.post("v3/public/oauth/token") { request, _ in
            let form = Self.formFields(try await request.body.collect(upTo: 65_536))
            return try await self.vendorCall { state, fault, now in
                state.etsy.token(form: form, now: now, fault: fault)
            }
        }
        router.get("v3/application/shops/:shop_id/receipts/:receipt_id") { request, context in
            let shop = Self.number(Self.parameter(context, "shop_id"))
            let receipt = Self.number(Self.parameter(context, "receipt_id"))
            let apiKey = HTTPField.Name("x-api-key").flatMap { request.headers[$0] }
            let authorization = request.headers[.authorization]
            return try await self.vendorCall { state, fault, now in
                state.etsy.receipt(shopID: shop, receiptID: receipt, apiKey: apiKey, authorization: authorization, now: now, fault: fault)
            }
        }

        // Control and inspection, for tests and load scripts.
        let control = router.group("sandbox")
        control.post("ebay/orders") { request, _ in
            let bytes = Array(buffer: try await request.body.collect(upTo: 256 << 20))
            let topic = request.uri.queryParameters.get("topic") ?? "ORDER_CONFIRMATION"
            let batch: StoreBatch
            do throws(StoreBatch.Problem) {
                batch = try StoreBatch(bytes) { object in
                    guard let id = object["orderId"] as? String, !id.isEmpty else { return nil }
                    return id
                }
            } catch {
                return Self.response(.badRequest(error.message(field: "orderId", expected: "a non-empty string")))
            }
            self.state.withLock { $0.ebay.store(batch.items) }
            let date = JSONText.timestamp(Self.now)
            let notifications = try batch.items.map { try self.signer.ebay(orderID: $0.id, topic: topic, date: date) }
            return Self.response(batch.answer(notifications))
        }
        control.post("etsy/shops/:shop_id/receipts") { request, context in
            guard let shopNumber = UInt64(Self.parameter(context, "shop_id")) else {
                return Self.response(.badRequest("shop_id must be a whole number"))
            }
            let shop = String(shopNumber)
            let bytes = Array(buffer: try await request.body.collect(upTo: 256 << 20))
            let eventType = request.uri.queryParameters.get("event_type") ?? "order.paid"
            let batch: StoreBatch
            do throws(StoreBatch.Problem) {
                batch = try StoreBatch(bytes) { object in
                    guard let value = object["receipt_id"], let id = JSONValue.wholeNumber(value), id >= 0 else { return nil }
                    return String(id)
                }
            } catch {
                return Self.response(.badRequest(error.message(field: "receipt_id", expected: "a whole number")))
            }
            self.state.withLock { $0.etsy.store(shopID: shop, batch.items) }
            let now = Self.now
            let notifications = batch.items.map { self.signer.etsy(shopID: shop, receiptID: $0.id, eventType: eventType, now: now) }
            return Self.response(batch.answer(notifications))
        }
        control.get("ebay/public-keys") { _, _ in
            Self.response(.json(200, self.ebayPublicKeys))
        }
        control.put("faults") { request, _ in
            let bytes = Array(buffer: try await request.body.collect(upTo: 65_536))
            guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
                return Self.response(.badRequest("the body must be a JSON object of latency_ms, server_error_rate, unavailable, expire_tokens"))
            }
            let answer = self.state.withLock { state -> MarketplaceAnswer in
                switch state.faults.update(object) {
                case .failure(let error):
                    return .badRequest(error.description)
                case .success(let expire):
                    var json = state.faults.json
                    if expire { json["tokens_expired"] = state.expireTokens() }
                    return .json(200, json)
                }
            }
            return Self.response(answer)
        }
        control.get("stats") { _, _ in
            Self.response(.json(200, self.state.withLock { $0.statsJSON }))
        }
    }

    /// Handles a vendor route under the lock with the fault it suffers, then waits the injected
    /// latency before answering.
    private func vendorCall(
        _ handle: (inout MarketplaceState, InjectedFault, Double) -> MarketplaceAnswer
    ) async throws -> Response {
        let (answer, latency) = state.withLock { state in
            (handle(&state, state.faults.draw(), Self.now), state.faults.latencyMilliseconds)
        }
        if latency > 0 { try await Task.sleep(for: .milliseconds(latency)) }
        return Self.response(answer)
    }

    private static func response(_ answer: MarketplaceAnswer) -> Response {
        var fields: HTTPFields = [.contentType: "application/json"]
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        return Response(status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    /// A path parameter, percent-decoded.
    private static func parameter(_ context: BasicRequestContext, _ name: String) -> String {
        let raw = context.parameters.get(name) ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    /// A whole number as stored (`007` as `7`); anything else as it is.
    private static func number(_ text: String) -> String {
        UInt64(text).map { String($0) } ?? text
    }

    static func formFields(_ body: ByteBuffer) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            let decode = { (part: Substring) in part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part) }
            fields[decode(parts[0])] = decode(parts[1])
        }
        return fields
    }
}
