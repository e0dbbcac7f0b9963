/// Etsy's side of the sandbox: OAuth tokens with rotating refresh tokens, stored receipts, the
/// per-second and per-day limits of the API key and their counts. Pure: callers pass the time
/// and the fault a call suffers.
struct EtsyState {
    let configuration: MarketplaceSandboxConfiguration
    /// Receipts as stored, by "shop_id/receipt_id".
    var receipts: [String: [UInt8]] = [:]
    /// Live access tokens and when they expire.
    var tokens: [String: Double] = [:]
    var pruneAt = 1024
    /// Refresh tokens accepted: the configured one and every one issued.
    var refreshTokens: Set<String>
    /// Times of the calls counted in the last second.
    var callTimes: [Double] = []
    /// Days since 1970 (UTC) of `callsToday`.
    var day = -1
    var callsToday = 0
    var stats = EtsyStats()

    init(configuration: MarketplaceSandboxConfiguration) {
        self.configuration = configuration
        refreshTokens = [configuration.etsyRefreshToken]
    }

    // MARK: OAuth

    /// `POST /v3/public/oauth/token`.
    mutating func token(form: [String: String], now: Double, fault: InjectedFault) -> MarketplaceAnswer {
        stats.tokenRequests += 1
        if fault == .unavailable {
            return .oauth(503, "temporarily_unavailable", "the authorization server is temporarily unavailable")
        }
        guard form["client_id"] == configuration.etsyKeystring else {
            return .oauth(401, "invalid_client", "client_id is not a known API keystring")
        }
        guard form["grant_type"] == "refresh_token" else {
            return .oauth(400, "unsupported_grant_type", "grant_type must be refresh_token")
        }
        guard let refresh = form["refresh_token"], refreshTokens.contains(refresh) else {
            return .oauth(400, "invalid_grant", "refresh_token is invalid or was issued to another client")
        }
        if fault == .serverError { return .oauth(500, "server_error", "the authorization server encountered an internal error") }
        let user = String(configuration.etsyUserID)
        let access = user + "." + randomToken(48)
        let next = user + "." + randomToken(48)
        refreshTokens.insert(next)
        if tokens.count >= pruneAt {
            tokens = tokens.filter { $0.value > now }
            pruneAt = max(1024, tokens.count * 2)
        }
        tokens[access] = now + Double(configuration.etsyTokenSeconds)
        return .json(
            200,
            ["access_token": access, "token_type": "Bearer", "expires_in": configuration.etsyTokenSeconds, "refresh_token": next])
    }

    /// Makes every live access token expire.
    mutating func expireTokens() -> Int {
        defer { tokens.removeAll() }
        return tokens.count
    }

    // MARK: API

    /// `GET /v3/application/shops/{shop_id}/receipts/{receipt_id}`; every answer carries the
    /// limit headers.
    mutating func receipt(
        shopID: String, receiptID: String, apiKey: String?, authorization: String?, now: Double, fault: InjectedFault
    ) -> MarketplaceAnswer {
        stats.receiptCalls += 1
        let today = Int((now / 86_400).rounded(.down))
        if today != day {
            day = today
            callsToday = 0
        }
        callTimes.removeAll { $0 <= now - 1 }
        var answer = admitAndRead(shopID: shopID, receiptID: receiptID, apiKey: apiKey, authorization: authorization, now: now, fault: fault)
        answer.headers += [
            ("x-limit-per-second", String(configuration.etsyCallsPerSecond)),
            ("x-remaining-this-second", String(max(0, configuration.etsyCallsPerSecond - callTimes.count))),
            ("x-limit-per-day", String(configuration.etsyCallsPerDay)),
            ("x-remaining-today", String(max(0, configuration.etsyCallsPerDay - callsToday))),
        ]
        return answer
    }

    private mutating func admitAndRead(
        shopID: String, receiptID: String, apiKey: String?, authorization: String?, now: Double, fault: InjectedFault
    ) -> MarketplaceAnswer {
        if fault == .unavailable { return .etsy(503, "Service Unavailable") }
        guard apiKey == configuration.etsyKeystring + ":" + configuration.etsySharedSecret else {
            stats.unauthorized += 1
            return .etsy(403, "Invalid API key")
        }
        if callTimes.count >= configuration.etsyCallsPerSecond {
            stats.rateLimited += 1
            return .etsy(429, "Too many requests", headers: [("retry-after", "1")])
        }
        if callsToday >= configuration.etsyCallsPerDay {
            stats.rateLimited += 1
            let midnight = Double(day + 1) * 86_400
            return .etsy(429, "Too many requests", headers: [("retry-after", String(max(1, Int((midnight - now).rounded(.up)))))])
        }
        callTimes.append(now)
        callsToday += 1
        guard let authorization, authorization.hasPrefix("Bearer "),
            let expiresAt = tokens[String(authorization.dropFirst(7))], expiresAt > now
        else {
            stats.unauthorized += 1
            return .etsy(401, "invalid_token")
        }
        if case .rateLimited(let asDate) = fault {
            stats.rateLimited += 1
            return .etsy(429, "Too many requests", headers: [("retry-after", InjectedFault.retryAfter(asDate: asDate, now: now))])
        }
        if fault == .serverError { return .etsy(500, "Internal server error") }
        guard let receipt = receipts[shopID + "/" + receiptID] else { return .etsy(404, "Receipt not found") }
        return MarketplaceAnswer(status: 200, body: receipt)
    }

    // MARK: Control

    /// Stores (or replaces) receipts of a shop.
    mutating func store(shopID: String, _ given: [(id: String, body: [UInt8])]) {
        for receipt in given { receipts[shopID + "/" + receipt.id] = receipt.body }
    }
}

/// What the Etsy side has seen.
struct EtsyStats: Sendable {
    var tokenRequests = 0
    var receiptCalls = 0
    var rateLimited = 0
    /// Calls refused for their API key (403) or token (401).
    var unauthorized = 0

    var json: [String: any Sendable] {
        ["token_requests": tokenRequests, "receipt_calls": receiptCalls, "rate_limited": rateLimited, "unauthorized": unauthorized]
    }
}
