import Foundation
import StockyardOutbound

/// Zoho's accounts server and Inventory API over libcurl. Calls block: use a client on one
/// thread only (a thread of the outbound layer's `WorkerPool`), never on Swift's cooperative pool.
public final class ZohoAPIClient {
    private let http: CurlHTTPClient
    /// Headers of the last answer that tell about limits (`Retry-After`, `X-Rate-Limit-*`).
    public private(set) var lastLimitHeaders: [String: String] = [:]

    public init(configuration: CurlHTTPClient.Configuration = .init(connectTimeout: 5, totalTimeout: 30)) {
        self.http = CurlHTTPClient(configuration: configuration)
    }

    // MARK: Tokens

    /// Trades a refresh token for an access token (`grant_type=refresh_token`).
    public func refreshAccessToken(
        accountsURL: String, clientID: String, clientSecret: String, refreshToken: String, now: Double
    ) throws(OutboundError) -> AccessToken {
        let fields = [
            ("grant_type", "refresh_token"), ("client_id", clientID), ("client_secret", clientSecret),
            ("refresh_token", refreshToken),
        ]
        let object = try tokenCall(accountsURL: accountsURL, fields: fields)
        return try token(from: object, now: now)
    }

    /// Trades a one-time grant code for a refresh token (`grant_type=authorization_code`).
    public func exchangeGrantCode(
        accountsURL: String, clientID: String, clientSecret: String, code: String, redirectURI: String?, now: Double
    ) throws(OutboundError) -> (refreshToken: String, token: AccessToken) {
        var fields = [("grant_type", "authorization_code"), ("client_id", clientID), ("client_secret", clientSecret), ("code", code)]
        if let redirectURI { fields.append(("redirect_uri", redirectURI)) }
        let object = try tokenCall(accountsURL: accountsURL, fields: fields)
        guard let refresh = object["refresh_token"] as? String, !refresh.isEmpty else {
            throw OutboundError(.invalidResponse, message: "the token answer has no refresh_token", outcomeKnown: true)
        }
        return (refresh, try token(from: object, now: now))
    }

    private func tokenCall(accountsURL: String, fields: [(String, String)]) throws(OutboundError) -> [String: Any] {
        let body = FormEncoding.query(fields)
        let response = try perform(
            method: "POST", url: FormEncoding.base(accountsURL) + "/oauth/v2/token",
            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array(body.utf8))
        let object = Self.object(response.body)
        // The accounts server reports refusals in the body, sometimes with 200.
        if let error = object?["error"] as? String {
            let description = (object?["error_description"] as? String).map { ": \($0)" } ?? ""
            if error == "Access Denied" || response.status == 429 {
                throw OutboundError(
                    .tokenRequestLimit, status: response.status, message: "token request refused\(description)",
                    retryAfter: response.retryAfter, outcomeKnown: true)
            }
            throw OutboundError(
                .credentialsRejected, status: response.status, message: "token request refused: \(error)\(description)",
                outcomeKnown: true)
        }
        guard (200..<300).contains(response.status), let object else {
            throw Self.failure(response, object: object)
        }
        return object
    }

    private func token(from object: [String: Any], now: Double) throws(OutboundError) -> AccessToken {
        guard let access = object["access_token"] as? String, !access.isEmpty else {
            throw OutboundError(.invalidResponse, message: "the token answer has no access_token", outcomeKnown: true)
        }
        let lifetime = Self.double(object["expires_in"]) ?? 3600
        let domain = (object["api_domain"] as? String) ?? ""
        return AccessToken(accessToken: access, expiresAt: now + lifetime, issuedAt: now, apiDomain: domain)
    }

    // MARK: Inventory adjustments

    /// `POST /inventoryadjustments`: returns the adjustment Zoho created.
    public func createAdjustment(_ request: AdjustmentRequest, at endpoint: ZohoEndpoint) throws(OutboundError) -> Adjustment {
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(request))
        } catch {
            throw OutboundError(.invalidResponse, message: "cannot encode the adjustment: \(error)", outcomeKnown: true)
        }
        let object = try call("POST", "/inventoryadjustments", at: endpoint, body: body)
        guard let record = object["inventory_adjustment"] as? [String: Any], let adjustment = Self.adjustment(record) else {
            // Zoho answered 2xx, so the adjustment exists even though the answer is unreadable.
            throw OutboundError(.invalidResponse, message: "the answer has no inventory_adjustment", outcomeKnown: false)
        }
        return adjustment
    }

    /// `GET /inventoryadjustments`, newest first.
    public func listAdjustments(page: Int, perPage: Int, at endpoint: ZohoEndpoint) throws(OutboundError) -> ZohoPage<Adjustment> {
        try list("/inventoryadjustments", key: "inventory_adjustments", page: page, perPage: perPage, at: endpoint, read: Self.adjustment)
    }

    /// `GET /inventoryadjustments/{id}`.
    public func adjustment(id: String, at endpoint: ZohoEndpoint) throws(OutboundError) -> Adjustment {
        let object = try call("GET", "/inventoryadjustments/\(FormEncoding.encode(id))", at: endpoint)
        guard let record = object["inventory_adjustment"] as? [String: Any], let adjustment = Self.adjustment(record) else {
            throw OutboundError(.invalidResponse, message: "the answer has no inventory_adjustment", outcomeKnown: true)
        }
        return adjustment
    }

    // MARK: Items and locations

    /// `GET /items`, one page, with per-location stock.
    public func listItems(page: Int, perPage: Int, at endpoint: ZohoEndpoint) throws(OutboundError) -> ZohoPage<ZohoItem> {
        try list("/items", key: "items", page: page, perPage: perPage, at: endpoint, read: Self.item)
    }

    /// `GET /items/{id}`.
    public func item(id: String, at endpoint: ZohoEndpoint) throws(OutboundError) -> ZohoItem {
        let object = try call("GET", "/items/\(FormEncoding.encode(id))", at: endpoint)
        guard let record = object["item"] as? [String: Any], let item = Self.item(record) else {
            throw OutboundError(.invalidResponse, message: "the answer has no item", outcomeKnown: true)
        }
        return item
    }

    /// `GET /locations`.
    public func listLocations(at endpoint: ZohoEndpoint) throws(OutboundError) -> [ZohoLocation] {
        let object = try call("GET", "/locations", at: endpoint)
        guard let list = object["locations"] as? [[String: Any]] else {
            throw OutboundError(.invalidResponse, message: "the answer has no locations", outcomeKnown: true)
        }
        return list.compactMap { record in
            Self.id(record["location_id"]).map { ZohoLocation(locationID: $0, locationName: record["location_name"] as? String) }
        }
    }

    // MARK: Exchange

    /// One page of a list under `key`, each record read by `read` (unreadable ones skipped).
    private func list<Element>(
        _ path: String, key: String, page: Int, perPage: Int, at endpoint: ZohoEndpoint, read: ([String: Any]) -> Element?
    ) throws(OutboundError) -> ZohoPage<Element> {
        let object = try call("GET", path, query: [("page", "\(page)"), ("per_page", "\(perPage)")], at: endpoint)
        guard let records = object[key] as? [[String: Any]] else {
            throw OutboundError(.invalidResponse, message: "the answer has no \(key)", outcomeKnown: true)
        }
        return ZohoPage(elements: records.compactMap(read), hasMorePage: Self.hasMorePage(object, count: records.count, perPage: perPage))
    }

    private func call(
        _ method: String, _ path: String, query: [(String, String)] = [], at endpoint: ZohoEndpoint, body: [UInt8]? = nil
    ) throws(OutboundError) -> [String: Any] {
        let parameters = [("organization_id", endpoint.organizationID)] + query
        let url = FormEncoding.base(endpoint.apiRoot) + path + "?" + FormEncoding.query(parameters)
        var headers = [("Authorization", "Zoho-oauthtoken \(endpoint.accessToken)"), ("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let response = try perform(method: method, url: url, headers: headers, body: body)
        let object = Self.object(response.body)
        let zohoCode = Self.double(object?["code"]).map { Int($0) }
        guard (200..<300).contains(response.status), zohoCode == nil || zohoCode == 0, let object else {
            throw Self.failure(response, object: object, idempotent: CurlHTTPClient.isIdempotent(method))
        }
        return object
    }

    private struct Answer {
        var status: Int
        var body: [UInt8]
        var retryAfter: Double?
    }

    private func perform(method: String, url: String, headers: [(String, String)], body: [UInt8]?) throws(OutboundError) -> Answer {
        let response = try http.exchange(method, url, headers: headers, body: body)
        var limits: [String: String] = [:]
        for (name, value) in response.headers {
            let lower = name.lowercased()
            if lower == "retry-after" || lower.hasPrefix("x-rate-limit") { limits[lower] = value }
        }
        lastLimitHeaders = limits
        return Answer(status: response.status, body: response.body, retryAfter: response.retryAfter())
    }

    /// What a refused or unreadable answer means. A 5xx leaves a write's outcome unknown; a
    /// read changed nothing whatever happened.
    private static func failure(_ response: Answer, object: [String: Any]?, idempotent: Bool = false) -> OutboundError {
        let zohoCode = double(object?["code"]).map { Int($0) }
        let message = (object?["message"] as? String) ?? "HTTP \(response.status)"
        let status = response.status
        if status == 429 {
            return OutboundError(.rateLimited, status: status, vendorCode: zohoCode, message: message, retryAfter: response.retryAfter, outcomeKnown: true)
        }
        if status == 401 || zohoCode == 57 || zohoCode == 14 {
            return OutboundError(.unauthorized, status: status, vendorCode: zohoCode, message: message, outcomeKnown: true)
        }
        if status >= 500 {
            return OutboundError(
                .serverError, status: status, vendorCode: zohoCode, message: message, retryAfter: response.retryAfter, outcomeKnown: idempotent)
        }
        if (200..<300).contains(status) {
            // A 2xx whose body says otherwise, or no body at all.
            return OutboundError(
                object == nil ? .invalidResponse : .rejected, status: status, vendorCode: zohoCode, message: message,
                outcomeKnown: object != nil)
        }
        return OutboundError(.rejected, status: status, vendorCode: zohoCode, message: message, outcomeKnown: true)
    }

    // MARK: Reading JSON

    static func object(_ body: [UInt8]) -> [String: Any]? {
        guard !body.isEmpty else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    static func double(_ value: Any?) -> Double? {
        switch value {
        case let number as NSNumber: number.doubleValue
        case let text as String: Double(text)
        default: nil
        }
    }

    /// An id that Zoho may send as a string or, in some answers, as a number.
    static func id(_ value: Any?) -> String? {
        switch value {
        case let text as String: text.isEmpty ? nil : text
        case let number as NSNumber: number.int64Value.description
        default: nil
        }
    }

    static func hasMorePage(_ object: [String: Any], count: Int, perPage: Int) -> Bool {
        if let context = object["page_context"] as? [String: Any], let more = context["has_more_page"] as? Bool {
            return more
        }
        return count >= perPage
    }

    static func adjustment(_ record: [String: Any]) -> Adjustment? {
        guard let id = id(record["inventory_adjustment_id"]) else { return nil }
        let lines = (record["line_items"] as? [[String: Any]])?.compactMap { line -> AdjustmentLine? in
            guard let item = Self.id(line["item_id"]), let quantity = double(line["quantity_adjusted"]) else { return nil }
            return AdjustmentLine(itemID: item, locationID: Self.id(line["location_id"]) ?? "", quantityAdjusted: quantity)
        }
        return Adjustment(
            inventoryAdjustmentID: id, date: record["date"] as? String, reason: record["reason"] as? String,
            referenceNumber: record["reference_number"] as? String, adjustmentType: record["adjustment_type"] as? String,
            lineItems: lines)
    }

    static func item(_ record: [String: Any]) -> ZohoItem? {
        guard let id = id(record["item_id"]) else { return nil }
        let locations = (record["locations"] as? [[String: Any]] ?? []).compactMap { location -> ItemLocationStock? in
            guard let locationID = Self.id(location["location_id"]) else { return nil }
            return ItemLocationStock(locationID: locationID, stockOnHand: double(location["location_stock_on_hand"]))
        }
        return ZohoItem(itemID: id, sku: record["sku"] as? String, name: record["name"] as? String, locations: locations)
    }

}
