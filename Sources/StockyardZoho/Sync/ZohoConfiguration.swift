import StockyardOutbound

/// How to reach one Zoho organization and how to sync with it.
public struct ZohoConfiguration: Sendable {
    /// The accounts server (`https://accounts.zoho.eu`, or the sandbox).
    public var accountsURL: String
    /// The API host; when nil, the `api_domain` of the token answer.
    public var apiURL: String?
    public var organizationID: String
    public var clientID: String
    public var clientSecret: String
    public var refreshToken: String
    /// Seconds between flushes.
    public var flushIntervalSeconds: Double
    /// Rows with open nets that start a flush before the interval ends.
    public var flushThresholdRows: Int
    /// Most lines per adjustment call.
    public var maxLines: Int
    /// `reason` of each adjustment.
    public var reason: String
    /// Start of every `reference_number` (Zoho's echoes of our adjustments are known by it).
    public var referencePrefix: String
    /// The organization's time zone, for the adjustment `date`.
    public var timeZone: String
    public var limits: CallBudget.Limits
    /// Token requests allowed per ten minutes (Zoho allows 10).
    public var tokenRequestsPer10Minutes: Int
    /// Pages of recent adjustments (200 each) searched for a batch whose outcome is unknown.
    public var lookupPages: Int
    /// Seconds to wait after an unknown outcome before looking, so a late write can land.
    public var lookupDelaySeconds: Double
    public var connectTimeoutSeconds: Double
    public var totalTimeoutSeconds: Double
    /// Seconds of the first retry delay; later ones double, up to `maxBackoffSeconds`.
    public var backoffSeconds: Double
    public var maxBackoffSeconds: Double
    /// Longest the final flush at shutdown may take.
    public var shutdownFlushSeconds: Double
    /// Seconds between reconciliations that report drift (0: never).
    public var reconcileIntervalSeconds: Double
    /// Pages of 200 items a reconciliation reads at most.
    public var reconcileMaxPages: Int

    public init(
        accountsURL: String,
        apiURL: String? = nil,
        organizationID: String,
        clientID: String,
        clientSecret: String,
        refreshToken: String,
        flushIntervalSeconds: Double = 30,
        flushThresholdRows: Int = 10_000,
        maxLines: Int = 100,
        reason: String = "Marketplace sales",
        referencePrefix: String = "SY",
        timeZone: String = "UTC",
        limits: CallBudget.Limits = .init(),
        tokenRequestsPer10Minutes: Int = 10,
        lookupPages: Int = 5,
        lookupDelaySeconds: Double = 5,
        connectTimeoutSeconds: Double = 5,
        totalTimeoutSeconds: Double = 30,
        backoffSeconds: Double = 1,
        maxBackoffSeconds: Double = 60,
        shutdownFlushSeconds: Double = 20,
        reconcileIntervalSeconds: Double = 86_400,
        reconcileMaxPages: Int = 50
    ) {
        self.accountsURL = accountsURL
        self.apiURL = apiURL
        self.organizationID = organizationID
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.refreshToken = refreshToken
        self.flushIntervalSeconds = flushIntervalSeconds
        self.flushThresholdRows = flushThresholdRows
        self.maxLines = maxLines
        self.reason = reason
        self.referencePrefix = referencePrefix
        self.timeZone = timeZone
        self.limits = limits
        self.tokenRequestsPer10Minutes = tokenRequestsPer10Minutes
        self.lookupPages = lookupPages
        self.lookupDelaySeconds = lookupDelaySeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.totalTimeoutSeconds = totalTimeoutSeconds
        self.backoffSeconds = backoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
        self.shutdownFlushSeconds = shutdownFlushSeconds
        self.reconcileIntervalSeconds = reconcileIntervalSeconds
        self.reconcileMaxPages = reconcileMaxPages
    }
}
