import Foundation
import StockyardOutbound

/// Talks to the service's API over real HTTP, with JSON in and out.
final class APIClient {
    let baseURL: String
    let token: String?
    let http = CurlHTTPClient(configuration: .init(connectTimeout: 2, totalTimeout: 30))

    init(baseURL: String, token: String? = ServiceProcess.adminToken) {
        self.baseURL = baseURL
        self.token = token
    }

    struct Reply {
        var status: Int
        var json: [String: Any]
        var raw: HTTPClientResponse

        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var errorField: String? { (json["error"] as? [String: Any])?["field"] as? String }
        var results: [String] { (json["results"] as? [[String: Any]])?.compactMap { $0["result"] as? String } ?? [] }
    }

    func send(_ method: String, _ path: String, json: Any? = nil, body: [UInt8]? = nil, headers: [(String, String)] = []) throws -> Reply {
        var allHeaders = headers
        if let token { allHeaders.append(("Authorization", "Bearer \(token)")) }
        var payload = body
        if let json {
            payload = Array(try JSONSerialization.data(withJSONObject: json))
        }
        if payload != nil && !allHeaders.contains(where: { $0.0 == "Content-Type" }) {
            allHeaders.append(("Content-Type", "application/json"))
        }
        let response = try http.request(method: method, url: baseURL + path, headers: allHeaders, body: payload)
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return Reply(status: response.status, json: object, raw: response)
    }

    /// Posts `fields` as an `application/x-www-form-urlencoded` body.
    func postForm(_ path: String, _ fields: [(String, String)], headers: [(String, String)] = []) throws -> Reply {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text }
        let body = fields.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
        return try send(
            "POST", path, body: Array(body.utf8), headers: headers + [("Content-Type", "application/x-www-form-urlencoded")])
    }

    func postEvents(_ events: [[String: Any]]) throws -> Reply {
        try send("POST", "/v1/events", json: ["events": events])
    }

    /// `available` of an item at a location, or nil when the item has no stock row there.
    func available(_ item: String, _ location: String) throws -> Int? {
        let reply = try send("GET", "/v1/stock/\(item)")
        guard reply.status == 200, let locations = reply.json["locations"] as? [[String: Any]] else { return nil }
        return locations.first { $0["location_id"] as? String == location }?["available"] as? Int
    }
}

/// A canonical sale event as JSON.
func saleEvent(
    _ channel: String = "shopify", listing: String, order: String, line: String, quantity: Int, version: Any
) -> [String: Any] {
    ["channel": channel, "listing_id": listing, "order_id": order, "line_id": line, "quantity": quantity, "version": version]
}
