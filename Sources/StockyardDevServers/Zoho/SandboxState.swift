import Foundation

/// An answer of the sandbox: status, extra headers and a JSON body.
struct SandboxAnswer: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: [String: any Sendable]
    /// Hold the connection this long without answering (a timeout, as the client sees it).
    var holdSeconds: Double? = nil

    static func zoho(_ status: Int, code: Int, _ message: String, headers: [(String, String)] = []) -> SandboxAnswer {
        SandboxAnswer(status: status, headers: headers, body: ["code": code, "message": message])
    }
}

/// A stored adjustment.
struct StoredAdjustment: Sendable {
    var id: String
    var date: String
    var reason: String
    var description: String?
    var referenceNumber: String?
    var lines: [(itemID: String, locationID: String, quantity: Double)]
    var createdAt: Double

    func record(withLines: Bool) -> [String: any Sendable] {
        var record: [String: any Sendable] = [
            "inventory_adjustment_id": id, "date": date, "reason": reason, "reference_number": referenceNumber ?? "",
            "adjustment_type": "quantity", "description": description ?? "",
            "total": lines.reduce(0) { $0 + $1.quantity },
        ]
        if withLines {
            record["line_items"] = lines.enumerated().map { index, line -> [String: any Sendable] in
                [
                    "line_item_id": String(Int64(id)! + Int64(index) + 1), "item_id": line.itemID,
                    "location_id": line.locationID, "quantity_adjusted": line.quantity, "unit": "qty",
                ]
            }
        }
        return record
    }
}

/// Everything the sandbox holds, and Zoho's rules over it. Pure: callers pass the time.
struct SandboxState {
    let configuration: SandboxConfiguration
    var items: [String: SandboxItem] = [:]
    var itemOrder: [String] = []
    var locations: [String] = []
    var adjustments: [StoredAdjustment] = []
    var nextID: Int64 = 4_815_000_000_100_000
    var faults = SandboxFaults()
    var random = SplitMix(seed: 0x5EED)

    // OAuth.
    var accessTokens: [String: (expiresAt: Double, refreshToken: String)] = [:]
    var tokensByRefresh: [String: [String]] = [:]
    var refreshTokens: Set<String>
    var grantCodes: Set<String>
    var tokenRequestTimes: [Double] = []

    // Limits and counts.
    var callTimes: [Double] = []
    var acceptedCallTimes: [Double] = []
    var day = -1
    var callsToday = 0
    var stats = SandboxStats()

    /// Net quantity received per item × location.
    var nets: [String: Double] = [:]

    init(configuration: SandboxConfiguration) {
        self.configuration = configuration
        refreshTokens = Set(configuration.refreshTokens)
        grantCodes = Set(configuration.grantCodes)
        locations = configuration.locations
        for item in configuration.items { upsert(item) }
    }

    mutating func upsert(_ item: SandboxItem) {
        if items[item.itemID] == nil { itemOrder.append(item.itemID) }
        items[item.itemID] = item
        for location in item.stock.keys where !locations.contains(location) { locations.append(location) }
    }

    // MARK: Accounts server

    mutating func token(_ form: [String: String], now: Double) -> SandboxAnswer {
        stats.tokenRequests += 1
        tokenRequestTimes.removeAll { $0 <= now - 600 }
        if tokenRequestTimes.count >= configuration.tokenRequestsPer10Minutes {
            stats.tokenRequestsRefused += 1
            return SandboxAnswer(
                status: 400,
                body: [
                    "error": "Access Denied",
                    "error_description": "You have made too many requests continuously. Please try again after some time.",
                ])
        }
        tokenRequestTimes.append(now)
        stats.maxTokenRequestsIn10Minutes = max(stats.maxTokenRequestsIn10Minutes, tokenRequestTimes.count)
        guard form["client_id"] == configuration.clientID, form["client_secret"] == configuration.clientSecret else {
            return SandboxAnswer(status: 200, body: ["error": "invalid_client"])
        }
        let refreshToken: String
        switch form["grant_type"] {
        case "refresh_token":
            guard let given = form["refresh_token"], refreshTokens.contains(given) else {
                return SandboxAnswer(status: 200, body: ["error": "invalid_code"])
            }
            refreshToken = given
        case "authorization_code":
            guard let code = form["code"], grantCodes.remove(code) != nil else {
                return SandboxAnswer(status: 200, body: ["error": "invalid_code"])
            }
            refreshToken = "1000." + hex(16) + "." + hex(16)
            refreshTokens.insert(refreshToken)
        default:
            return SandboxAnswer(status: 200, body: ["error": "unsupported_grant_type"])
        }
        let access = "1000." + hex(16) + "." + hex(16)
        accessTokens[access] = (now + configuration.accessTokenSeconds, refreshToken)
        var live = tokensByRefresh[refreshToken, default: []].filter { accessTokens[$0] != nil }
        live.append(access)
        while live.count > configuration.liveTokensPerRefreshToken {
            accessTokens[live.removeFirst()] = nil
        }
        tokensByRefresh[refreshToken] = live
        stats.tokensIssued += 1
        var body: [String: any Sendable] = [
            "access_token": access, "api_domain": "API_DOMAIN", "token_type": "Bearer",
            "expires_in": Int(configuration.accessTokenSeconds),
        ]
        if form["grant_type"] == "authorization_code" { body["refresh_token"] = refreshToken }
        return SandboxAnswer(status: 200, body: body)
    }

    // MARK: API gate

    /// Checks organization, token and limits for an API call; nil when the call may go on.
    mutating func admit(organizationID: String?, authorization: String?, now: Double) -> SandboxAnswer? {
        stats.calls += 1
        callTimes.append(now)
        callTimes.removeAll { $0 <= now - 60 }
        stats.maxCallsInAMinute = max(stats.maxCallsInAMinute, callTimes.count)
        guard let authorization, authorization.hasPrefix("Zoho-oauthtoken ") else {
            stats.unauthorized += 1
            return .zoho(401, code: 57, "You are not authorized to perform this operation")
        }
        let token = String(authorization.dropFirst("Zoho-oauthtoken ".count))
        guard let entry = accessTokens[token], entry.expiresAt > now, refreshTokens.contains(entry.refreshToken) else {
            stats.unauthorized += 1
            return .zoho(401, code: 57, "You are not authorized to perform this operation")
        }
        guard let organizationID, !organizationID.isEmpty else {
            return .zoho(400, code: 6041, "organization_id is required")
        }
        guard organizationID == configuration.organizationID else {
            return .zoho(400, code: 6024, "You are not a member of the organization \(organizationID)")
        }
        acceptedCallTimes.removeAll { $0 <= now - 60 }
        if acceptedCallTimes.count >= configuration.callsPerMinute {
            stats.rateLimited += 1
            let wait = Int((acceptedCallTimes[0] + 60 - now).rounded(.up))
            return .zoho(
                429, code: 44, "You have exceeded the maximum number of API calls per minute for this organization.",
                headers: [("Retry-After", String(max(1, wait))), ("X-Rate-Limit-Limit", String(configuration.callsPerMinute)),
                          ("X-Rate-Limit-Remaining", "0"), ("X-Rate-Limit-Reset", String(max(1, wait)))])
        }
        let today = Int(now / 86_400)
        if today != day {
            day = today
            callsToday = 0
        }
        if callsToday >= configuration.callsPerDay {
            stats.rateLimited += 1
            let wait = Int((Double(today + 1) * 86_400 - now).rounded(.up))
            return .zoho(
                429, code: 45, "You have reached the daily API call limit of this organization.",
                headers: [("Retry-After", String(wait))])
        }
        acceptedCallTimes.append(now)
        callsToday += 1
        if roll(faults.rateLimitRate) {
            stats.rateLimited += 1
            stats.injected += 1
            return .zoho(
                429, code: 44, "Too many requests: the organization's API calls are in use.",
                headers: [("Retry-After", faults.retryAfterAsDate ? Self.httpDate(now + 2) : "1")])
        }
        if roll(faults.serverErrorRate) {
            stats.injected += 1
            return .zoho(500, code: 1000, "Internal error")
        }
        if roll(faults.timeoutRate) {
            stats.injected += 1
            var answer = SandboxAnswer.zoho(500, code: 1000, "Internal error")
            answer.holdSeconds = faults.holdSeconds
            return answer
        }
        return nil
    }

    // MARK: Inventory adjustments

    mutating func createAdjustment(_ body: Any?, now: Double) -> SandboxAnswer {
        let request: ParsedAdjustment
        switch AdjustmentValidation.validate(body) {
        case .failure(let problem):
            return .zoho(400, code: problem.code, problem.message)
        case .success(let parsed):
            request = parsed
        }
        for line in request.lines {
            if let location = line.locationID, !locations.contains(location), !configuration.createUnknownItems {
                return .zoho(400, code: 1002, "Location does not exist: \(location)")
            }
            if items[line.itemID] == nil && !configuration.createUnknownItems {
                return .zoho(400, code: 1002, "Item does not exist: \(line.itemID)")
            }
        }
        nextID += 1000
        let id = String(nextID)
        var stored = StoredAdjustment(
            id: id, date: request.date, reason: request.reason, description: request.description,
            referenceNumber: request.referenceNumber, lines: [], createdAt: now)
        for line in request.lines {
            let location = line.locationID ?? request.locationID ?? locations.first ?? "default"
            if !locations.contains(location) { locations.append(location) }
            if items[line.itemID] == nil { upsert(SandboxItem(itemID: line.itemID, sku: line.itemID)) }
            items[line.itemID]!.stock[location, default: 0] += line.quantity
            nets[line.itemID + "\u{1F}" + location, default: 0] += line.quantity
            stored.lines.append((line.itemID, location, line.quantity))
        }
        adjustments.append(stored)
        stats.adjustments += 1
        stats.linesReceived += stored.lines.count
        var answer = SandboxAnswer(
            status: 201,
            body: ["code": 0, "message": "Inventory Adjustment has been added", "inventory_adjustment": stored.record(withLines: true)])
        if roll(faults.applyThenDropRate) {
            stats.injected += 1
            stats.appliedThenDropped += 1
            answer.holdSeconds = faults.holdSeconds
        }
        return answer
    }

    func listAdjustments(page: Int, perPage: Int) -> SandboxAnswer {
        let newestFirst = adjustments.reversed()
        let start = (page - 1) * perPage
        let slice = newestFirst.dropFirst(start).prefix(perPage)
        return SandboxAnswer(
            status: 200,
            body: [
                "code": 0, "message": "success",
                "inventory_adjustments": slice.map { $0.record(withLines: false) },
                "page_context": pageContext(page: page, perPage: perPage, hasMore: start + slice.count < adjustments.count),
            ])
    }

    func adjustment(id: String) -> SandboxAnswer {
        guard let stored = adjustments.first(where: { $0.id == id }) else {
            return .zoho(404, code: 1002, "Inventory Adjustment does not exist.")
        }
        return SandboxAnswer(status: 200, body: ["code": 0, "message": "success", "inventory_adjustment": stored.record(withLines: true)])
    }

    // MARK: Items and locations

    func itemRecord(_ item: SandboxItem) -> [String: any Sendable] {
        [
            "item_id": item.itemID, "name": item.sku, "sku": item.sku, "status": "active", "item_type": "inventory",
            "product_type": "goods", "is_combo_product": false,
            "locations": locations.filter { item.stock[$0] != nil }.map { location -> [String: any Sendable] in
                let stock = item.stock[location] ?? 0
                let text = stock == stock.rounded() ? String(Int64(stock)) : String(stock)
                return [
                    "location_id": location, "location_name": location, "status": "active", "is_primary": location == locations.first,
                    "location_stock_on_hand": text, "location_available_stock": text, "location_actual_available_stock": text,
                ]
            },
        ]
    }

    func listItems(page: Int, perPage: Int) -> SandboxAnswer {
        let start = (page - 1) * perPage
        let slice = itemOrder.dropFirst(start).prefix(perPage)
        return SandboxAnswer(
            status: 200,
            body: [
                "code": 0, "message": "success", "items": slice.map { itemRecord(items[$0]!) },
                "page_context": pageContext(page: page, perPage: perPage, hasMore: start + slice.count < itemOrder.count),
            ])
    }

    func item(id: String) -> SandboxAnswer {
        guard let item = items[id] else { return .zoho(404, code: 1002, "Item does not exist.") }
        return SandboxAnswer(status: 200, body: ["code": 0, "message": "success", "item": itemRecord(item)])
    }

    func listLocations() -> SandboxAnswer {
        SandboxAnswer(
            status: 200,
            body: [
                "code": 0, "message": "success",
                "locations": locations.map { ["location_id": $0, "location_name": $0, "type": "general"] as [String: any Sendable] },
            ])
    }

    private func pageContext(page: Int, perPage: Int, hasMore: Bool) -> [String: any Sendable] {
        ["page": page, "per_page": perPage, "has_more_page": hasMore, "sort_column": "created_time", "sort_order": "D"]
    }

    // MARK: Helpers

    mutating func roll(_ rate: Double) -> Bool {
        guard rate > 0 else { return false }
        return Double(random.next() >> 11) / Double(1 << 53) < rate
    }

    mutating func hex(_ count: Int) -> String {
        var text = ""
        while text.count < count { text += String(random.next(), radix: 16) }
        return String(text.prefix(count))
    }
}

/// What the sandbox has seen, for tests and load scripts.
extension SandboxState {
    /// An HTTP date, as `Retry-After` may carry one.
    static func httpDate(_ time: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date(timeIntervalSince1970: time.rounded(.up)))
    }
}

struct SandboxStats: Sendable {
    var calls = 0
    var maxCallsInAMinute = 0
    var rateLimited = 0
    var unauthorized = 0
    var injected = 0
    var appliedThenDropped = 0
    var adjustments = 0
    var linesReceived = 0
    var tokenRequests = 0
    var tokenRequestsRefused = 0
    var tokensIssued = 0
    var maxTokenRequestsIn10Minutes = 0
}

/// A small deterministic random source, so a fault pattern (or test data) can be repeated.
public struct SplitMix: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
