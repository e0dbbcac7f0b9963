import Foundation

/// eBay's side of the sandbox: OAuth tokens, stored orders, the per-second call limit and its
/// counts. Pure: callers pass the time and the fault a call suffers.
struct EbayState {
    /// What an access token may do.
    enum Grant: Sendable {
        /// `client_credentials`: public keys, not orders.
        case application
        /// `refresh_token`: orders too.
        case user
    }

    let configuration: MarketplaceSandboxConfiguration
    /// Public keys by key id, as PEM.
    let publicKeys: [String: String]
    /// Orders as stored, by order id.
    var orders: [String: [UInt8]] = [:]
    var tokens: [String: (expiresAt: Double, grant: Grant)] = [:]
    /// Size of `tokens` at which expired tokens are dropped.
    var pruneAt = 1024
    /// Times of the API calls let through in the last second.
    var callTimes: [Double] = []
    var stats = EbayStats()

    init(configuration: MarketplaceSandboxConfiguration, publicKeys: [String: String]) {
        self.configuration = configuration
        self.publicKeys = publicKeys
    }

    // MARK: OAuth

    /// `POST /identity/v1/oauth2/token`.
    mutating func token(authorization: String?, form: [String: String], now: Double, fault: InjectedFault) -> MarketplaceAnswer {
        stats.tokenRequests += 1
        if fault == .unavailable {
            return .oauth(503, "temporarily_unavailable", "the authorization server is temporarily unavailable")
        }
        guard let client = Self.basicCredentials(authorization),
            client.id == configuration.ebayClientID, client.secret == configuration.ebayClientSecret
        else {
            return .oauth(401, "invalid_client", "client authentication failed")
        }
        let grant: Grant
        switch form["grant_type"] {
        case "client_credentials":
            grant = .application
        case "refresh_token":
            guard let refresh = form["refresh_token"], refresh == configuration.ebayRefreshToken else {
                return .oauth(
                    400, "invalid_grant", "the provided authorization refresh token is invalid or was issued to another client")
            }
            grant = .user
        case let other:
            return .oauth(400, "unsupported_grant_type", "grant type \(other.map { "'\($0)'" } ?? "(none)") is not supported")
        }
        if fault == .serverError { return .oauth(500, "server_error", "the authorization server encountered an internal error") }
        let access = "v^1.1#i^1#" + (grant == .user ? "user-" : "app-") + randomToken(40)
        if tokens.count >= pruneAt {
            tokens = tokens.filter { $0.value.expiresAt > now }
            pruneAt = max(1024, tokens.count * 2)
        }
        tokens[access] = (now + Double(configuration.ebayTokenSeconds), grant)
        return .json(
            200,
            [
                "access_token": access, "expires_in": configuration.ebayTokenSeconds,
                "token_type": grant == .user ? "User Access Token" : "Application Access Token",
            ])
    }

    /// Client id and secret of an `Authorization: Basic …` header.
    static func basicCredentials(_ header: String?) -> (id: String, secret: String)? {
        guard let header, header.lowercased().hasPrefix("basic ") else { return nil }
        let encoded = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// Makes every live access token expire.
    mutating func expireTokens() -> Int {
        defer { tokens.removeAll() }
        return tokens.count
    }

    // MARK: API

    /// `GET /commerce/notification/v1/public_key/{public_key_id}`.
    mutating func publicKey(id: String, authorization: String?, now: Double, fault: InjectedFault) -> MarketplaceAnswer {
        stats.publicKeyCalls += 1
        if let refusal = admit(authorization, needsUser: false, domain: "API_NOTIFICATION", now: now, fault: fault) { return refusal }
        guard let pem = publicKeys[id] else {
            return .ebay(404, id: 195_001, domain: "API_NOTIFICATION", "The specified public key was not found.")
        }
        return .json(200, ["algorithm": "ECDSA", "digest": "SHA1", "key": pem])
    }

    /// `GET /sell/fulfillment/v1/order/{orderId}`.
    mutating func order(id: String, authorization: String?, now: Double, fault: InjectedFault) -> MarketplaceAnswer {
        stats.orderCalls += 1
        if let refusal = admit(authorization, needsUser: true, domain: "API_FULFILLMENT", now: now, fault: fault) { return refusal }
        guard let order = orders[id] else {
            return .ebay(404, id: 32_100, domain: "API_FULFILLMENT", "Invalid Order Id")
        }
        return MarketplaceAnswer(status: 200, body: order)
    }

    /// Checks token, scope, limit and faults of an API call; nil when the call may go on.
    private mutating func admit(
        _ authorization: String?, needsUser: Bool, domain: String, now: Double, fault: InjectedFault
    ) -> MarketplaceAnswer? {
        if fault == .unavailable {
            return .ebay(503, id: 2003, domain: "ACCESS", category: "APPLICATION", "Service unavailable. Please try again later.")
        }
        guard let authorization, authorization.hasPrefix("Bearer "),
            let token = tokens[String(authorization.dropFirst(7))], token.expiresAt > now
        else {
            stats.unauthorized += 1
            return .ebay(
                401, id: 1001, domain: "OAuth", "Invalid access token",
                long: "Invalid access token. Check the value of the Authorization HTTP request header.")
        }
        if needsUser && token.grant != .user {
            stats.unauthorized += 1
            return .ebay(403, id: 1100, domain: "ACCESS", "Access denied", long: "Insufficient permissions to fulfill the request.")
        }
        callTimes.removeAll { $0 <= now - 1 }
        if callTimes.count >= configuration.ebayCallsPerSecond {
            stats.rateLimited += 1
            return .ebay(
                429, id: 2001, domain: "ACCESS", "Too many requests. The request limit has been reached for the resource.",
                headers: [("Retry-After", "1")])
        }
        callTimes.append(now)
        if case .rateLimited(let asDate) = fault {
            stats.rateLimited += 1
            return .ebay(
                429, id: 2001, domain: "ACCESS", "Too many requests. The request limit has been reached for the resource.",
                headers: [("Retry-After", InjectedFault.retryAfter(asDate: asDate, now: now))])
        }
        if fault == .serverError {
            return .ebay(500, id: 10_001, domain: domain, category: "APPLICATION", "System error. Please try again later.")
        }
        return nil
    }

    // MARK: Control

    /// Stores (or replaces) orders.
    mutating func store(_ given: [(id: String, body: [UInt8])]) {
        for order in given { orders[order.id] = order.body }
    }
}

/// What the eBay side has seen.
struct EbayStats: Sendable {
    var tokenRequests = 0
    var publicKeyCalls = 0
    var orderCalls = 0
    var rateLimited = 0
    /// Calls refused for their token: missing, unknown, expired (401) or an application token
    /// where a user token is needed (403).
    var unauthorized = 0

    var json: [String: any Sendable] {
        [
            "token_requests": tokenRequests, "public_key_calls": publicKeyCalls, "order_calls": orderCalls,
            "rate_limited": rateLimited, "unauthorized": unauthorized,
        ]
    }
}
