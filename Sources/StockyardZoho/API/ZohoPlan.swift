/// Zoho Inventory's plans, for their API quotas: the calls a day an organization on each plan
/// may make, and the calls at once. Zoho does not publish them on its API reference; the
/// figures come from secondary sources (API directories quoting the Inventory API
/// introduction) and Zoho raises them on request, so an explicit daily budget or concurrency
/// overrides the plan's.
public enum ZohoPlan: String, CaseIterable, Sendable {
    case free, standard, professional, premium, enterprise

    /// Calls a day (Premium's is given as "75,000" in the one source, almost certainly 7,500).
    public var dailyCalls: Int {
        switch self {
        case .free: 1000
        case .standard: 2500
        case .professional: 5000
        case .premium: 7500
        case .enterprise: 10_000
        }
    }

    /// Calls at once: 5 on the free plan, 10 on paid plans.
    public var concurrentCalls: Int { self == .free ? 5 : 10 }
}
