import ArgumentParser
import Foundation
import StockyardServer
import StockyardOutbound
import StockyardZoho

/// The Zoho settings of `serve`. Without an organization, client and refresh token the service
/// runs with Zoho sync off.
struct ZohoOptions: ParsableArguments {
    @Option(name: .customLong("zoho-dc"), help: "Zoho data centre: com, eu, in, com.au, jp, ca, com.cn, sa or uk. Env: STOCKYARD_ZOHO_DC (default com).")
    var dataCenter: String?

    @Option(name: .customLong("zoho-accounts-url"), help: "Accounts server URL, instead of the data centre's. Env: STOCKYARD_ZOHO_ACCOUNTS_URL.")
    var accountsURL: String?

    @Option(name: .customLong("zoho-api-url"), help: "API host, overriding the token's api_domain (http:// only on loopback). Env: STOCKYARD_ZOHO_API_URL.")
    var apiURL: String?

    @Option(name: .customLong("zoho-organization-id"), help: "Zoho organization id. Env: STOCKYARD_ZOHO_ORGANIZATION_ID.")
    var organizationID: String?

    @Option(name: .customLong("zoho-client-id"), help: "OAuth client id. Env: STOCKYARD_ZOHO_CLIENT_ID.")
    var clientID: String?

    @Option(name: .customLong("zoho-client-secret"), help: "OAuth client secret. Env: STOCKYARD_ZOHO_CLIENT_SECRET, or STOCKYARD_ZOHO_CLIENT_SECRET_FILE.")
    var clientSecret: String?

    @Option(name: .customLong("zoho-refresh-token"), help: "OAuth refresh token (see `stockyard zoho authorize`). Env: STOCKYARD_ZOHO_REFRESH_TOKEN, or STOCKYARD_ZOHO_REFRESH_TOKEN_FILE.")
    var refreshToken: String?

    @Option(name: .customLong("flush-interval"), help: "Seconds between flushes to Zoho. Env: STOCKYARD_FLUSH_INTERVAL (default 30).")
    var flushInterval: String?

    @Option(name: .customLong("flush-threshold-rows"), help: "Item × location rows with open changes that start a flush early. Env: STOCKYARD_FLUSH_THRESHOLD_ROWS (default 10000).")
    var flushThresholdRows: String?

    @Option(name: .customLong("zoho-rate-per-minute"), help: "Zoho calls per minute, at most 100 (Zoho's limit). Env: STOCKYARD_ZOHO_RATE_PER_MINUTE (default 60).")
    var ratePerMinute: String?

    @Option(
        name: .customLong("zoho-plan"),
        help: "The organization's Zoho plan (free, standard, professional, premium, enterprise): presets the daily budget and the calls at once. Env: STOCKYARD_ZOHO_PLAN.")
    var plan: String?

    @Option(name: .customLong("zoho-concurrency"), help: "Zoho calls at once. Env: STOCKYARD_ZOHO_CONCURRENCY (default 1, or the plan's).")
    var concurrency: String?

    @Option(name: .customLong("zoho-daily-budget"), help: "Zoho calls per day (the plan's quota, less what other integrations use). Env: STOCKYARD_ZOHO_DAILY_BUDGET (default 1000, or the plan's).")
    var dailyBudget: String?

    @Option(name: .customLong("zoho-daily-reserve"), help: "Calls of the daily budget kept for resolving unknown outcomes. Env: STOCKYARD_ZOHO_DAILY_RESERVE (default 50).")
    var dailyReserve: String?

    @Option(name: .customLong("zoho-max-lines"), help: "Most lines per adjustment call. Env: STOCKYARD_ZOHO_MAX_LINES (default 100).")
    var maxLines: String?

    @Option(name: .customLong("zoho-reason"), help: "The reason of each adjustment. Env: STOCKYARD_ZOHO_REASON (default 'Marketplace sales').")
    var reason: String?

    @Option(name: .customLong("zoho-reference-prefix"), help: "Start of each adjustment's reference_number. Env: STOCKYARD_ZOHO_REFERENCE_PREFIX (default SY).")
    var referencePrefix: String?

    @Option(name: .customLong("zoho-time-zone"), help: "The organization's time zone, for adjustment dates. Env: STOCKYARD_ZOHO_TIME_ZONE (default UTC).")
    var timeZone: String?

    @Option(name: .customLong("zoho-timeout"), help: "Seconds a Zoho call may take. Env: STOCKYARD_ZOHO_TIMEOUT (default 30).")
    var timeout: String?

    @Option(name: .customLong("zoho-lookup-delay"), help: "Seconds to wait after an unknown outcome before looking for the batch in Zoho. Env: STOCKYARD_ZOHO_LOOKUP_DELAY (default 5).")
    var lookupDelay: String?

    @Option(name: .customLong("reconcile-interval"), help: "Hours between reconciliations that report drift; 0 turns them off. Env: STOCKYARD_RECONCILE_INTERVAL_HOURS (default 24).")
    var reconcileInterval: String?

    @Option(name: .customLong("reconcile-max-pages"), help: "Pages of 200 Zoho items a reconciliation reads at most. Env: STOCKYARD_RECONCILE_MAX_PAGES (default 50).")
    var reconcileMaxPages: String?

    /// The Zoho configuration, or nil when no credentials are given.
    func configuration(_ reader: SettingReader) throws(SettingError) -> ZohoConfiguration? {
        let organization = reader.value(organizationID, "STOCKYARD_ZOHO_ORGANIZATION_ID")
        let client = reader.value(clientID, "STOCKYARD_ZOHO_CLIENT_ID")
        let secret = try reader.secret(clientSecret, "STOCKYARD_ZOHO_CLIENT_SECRET")
        let refresh = try reader.secret(refreshToken, "STOCKYARD_ZOHO_REFRESH_TOKEN")
        let given = [organization, client, secret, refresh].compactMap { $0 }
        if given.isEmpty { return nil }
        guard let organization, let client, let secret, let refresh else {
            let missing = [
                ("--zoho-organization-id / STOCKYARD_ZOHO_ORGANIZATION_ID", organization),
                ("--zoho-client-id / STOCKYARD_ZOHO_CLIENT_ID", client),
                ("--zoho-client-secret / STOCKYARD_ZOHO_CLIENT_SECRET", secret),
                ("--zoho-refresh-token / STOCKYARD_ZOHO_REFRESH_TOKEN", refresh),
            ].filter { $0.1 == nil }.map(\.0)
            throw SettingError(message: "\(missing.joined(separator: ", ")): required once any Zoho credential is set")
        }
        guard organization.allSatisfy(\.isNumber) else {
            throw SettingError(message: "--zoho-organization-id / STOCKYARD_ZOHO_ORGANIZATION_ID: '\(organization)' is not a Zoho organization id (digits)")
        }

        let accounts = try Self.accountsServer(reader, dataCenter: dataCenter, accountsURL: accountsURL)
        let api = try reader.value(apiURL, "STOCKYARD_ZOHO_API_URL").map { (url) throws(SettingError) in
            try Self.checkURL(url, "--zoho-api-url / STOCKYARD_ZOHO_API_URL")
        }
        let zone = reader.value(timeZone, "STOCKYARD_ZOHO_TIME_ZONE") ?? "UTC"
        guard TimeZone(identifier: zone) != nil else {
            throw SettingError(message: "--zoho-time-zone / STOCKYARD_ZOHO_TIME_ZONE: '\(zone)' is not a time zone (e.g. Europe/Berlin)")
        }
        let prefix = reader.value(referencePrefix, "STOCKYARD_ZOHO_REFERENCE_PREFIX") ?? "SY"
        guard !prefix.isEmpty, prefix.count <= 20, prefix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw SettingError(message: "--zoho-reference-prefix / STOCKYARD_ZOHO_REFERENCE_PREFIX: use 1 to 20 letters, digits, '-' or '_'")
        }
        let reasonText = reader.value(reason, "STOCKYARD_ZOHO_REASON") ?? "Marketplace sales"
        guard !reasonText.trimmingCharacters(in: .whitespaces).isEmpty, reasonText.count <= 500 else {
            throw SettingError(message: "--zoho-reason / STOCKYARD_ZOHO_REASON: give 1 to 500 characters")
        }
        let interval = try reader.integer(flushInterval, "flush-interval", "STOCKYARD_FLUSH_INTERVAL", default: 30, range: 1...86_400)
        let threshold = try reader.integer(flushThresholdRows, "flush-threshold-rows", "STOCKYARD_FLUSH_THRESHOLD_ROWS", default: 10_000, range: 1...10_000_000)
        let rate = try reader.integer(ratePerMinute, "zoho-rate-per-minute", "STOCKYARD_ZOHO_RATE_PER_MINUTE", default: 60, range: 1...100)
        var zohoPlan: ZohoPlan?
        if let name = reader.value(plan, "STOCKYARD_ZOHO_PLAN") {
            guard let known = ZohoPlan(rawValue: name.lowercased()) else {
                throw SettingError(
                    message: "--zoho-plan / STOCKYARD_ZOHO_PLAN: '\(name)' is not one of \(ZohoPlan.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            zohoPlan = known
        }
        let concurrent = try reader.integer(
            concurrency, "zoho-concurrency", "STOCKYARD_ZOHO_CONCURRENCY", default: zohoPlan?.concurrentCalls ?? 1, range: 1...10)
        let daily = try reader.integer(
            dailyBudget, "zoho-daily-budget", "STOCKYARD_ZOHO_DAILY_BUDGET", default: zohoPlan?.dailyCalls ?? 1000, range: 10...1_000_000)
        let reserve = try reader.integer(dailyReserve, "zoho-daily-reserve", "STOCKYARD_ZOHO_DAILY_RESERVE", default: min(50, daily / 10), range: 0...(daily - 1))
        let lines = try reader.integer(maxLines, "zoho-max-lines", "STOCKYARD_ZOHO_MAX_LINES", default: 100, range: 1...1000)
        let total = try reader.integer(timeout, "zoho-timeout", "STOCKYARD_ZOHO_TIMEOUT", default: 30, range: 1...600)
        let delay = try reader.integer(lookupDelay, "zoho-lookup-delay", "STOCKYARD_ZOHO_LOOKUP_DELAY", default: 5, range: 0...600)
        let reconcileHours = try reader.integer(reconcileInterval, "reconcile-interval", "STOCKYARD_RECONCILE_INTERVAL_HOURS", default: 24, range: 0...24 * 30)
        let reconcilePages = try reader.integer(reconcileMaxPages, "reconcile-max-pages", "STOCKYARD_RECONCILE_MAX_PAGES", default: 50, range: 1...10_000)
        return ZohoConfiguration(
            accountsURL: accounts, apiURL: api, organizationID: organization, clientID: client, clientSecret: secret,
            refreshToken: refresh, flushIntervalSeconds: Double(interval), flushThresholdRows: threshold, maxLines: lines,
            reason: reasonText, referencePrefix: prefix, timeZone: zone,
            limits: .init(perMinute: rate, concurrent: concurrent, daily: daily, dailyReserve: reserve),
            lookupDelaySeconds: Double(delay), totalTimeoutSeconds: Double(total),
            reconcileIntervalSeconds: Double(reconcileHours * 3600), reconcileMaxPages: reconcilePages)
    }

    /// The accounts server: the URL given, else the data centre's (`com` by default).
    static func accountsServer(_ reader: SettingReader, dataCenter: String?, accountsURL: String?) throws(SettingError) -> String {
        if let url = reader.value(accountsURL, "STOCKYARD_ZOHO_ACCOUNTS_URL") {
            return try checkURL(url, "--zoho-accounts-url / STOCKYARD_ZOHO_ACCOUNTS_URL")
        }
        let name = reader.value(dataCenter, "STOCKYARD_ZOHO_DC") ?? "com"
        guard let center = ZohoDataCenter(rawValue: name) else {
            throw SettingError(
                message: "--zoho-dc / STOCKYARD_ZOHO_DC: '\(name)' is not one of \(ZohoDataCenter.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return center.accountsURL
    }

    /// An https URL, or http on a loopback host (a sandbox).
    static func checkURL(_ text: String, _ name: String) throws(SettingError) -> String {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw SettingError(message: "\(name): '\(text)' is not a URL")
        }
        let loopback = host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
        guard scheme == "https" || (scheme == "http" && loopback) else {
            throw SettingError(message: "\(name): use https (plain http is allowed only on a loopback host)")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }
}
