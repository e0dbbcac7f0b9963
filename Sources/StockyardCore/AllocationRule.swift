/// How much of the available stock one channel (or one listing on it) may sell.
///
/// `sellable = clamp(floor((Σ eligible available − safetyStock) × percentage / 100), 0, maximum)`,
/// and 0 when that is below `floor`.
public struct AllocationRule: Sendable, Hashable {
    public var channel: Channel
    /// Set for a rule that applies to one listing only.
    public var listingID: String?
    public var safetyStock: Int64
    /// Percentage in hundredths (10000 = 100 %), so that 12.5 % stays exact.
    public var percentageHundredths: Int64
    public var maximum: Int64?
    public var floor: Int64
    /// Eligible locations in priority order; empty means every location the listing names.
    public var locations: [String]

    public init(
        channel: Channel,
        listingID: String? = nil,
        safetyStock: Int64 = 0,
        percentageHundredths: Int64 = 10_000,
        maximum: Int64? = nil,
        floor: Int64 = 0,
        locations: [String] = []
    ) {
        self.channel = channel
        self.listingID = listingID
        self.safetyStock = safetyStock
        self.percentageHundredths = percentageHundredths
        self.maximum = maximum
        self.floor = floor
        self.locations = locations
    }

    /// The rule in force where none is configured: everything available, no limits.
    public static func unrestricted(_ channel: Channel) -> AllocationRule {
        AllocationRule(channel: channel)
    }

    /// The sellable figure for a total of available stock over the eligible locations.
    public func sellable(totalAvailable: Int64) -> Int64 {
        let base = totalAvailable - safetyStock
        guard base > 0 else { return 0 }
        var value = base.multipliedReportingOverflow(by: percentageHundredths)
        if value.overflow { value.partialValue = Int64.max }
        var sellable = value.partialValue / 10_000
        if let maximum { sellable = min(sellable, max(maximum, 0)) }
        return sellable < floor ? 0 : sellable
    }

    public func validate() -> ValidationProblem? {
        if let listingID, let problem = Limits.validateID(listingID, field: "listing_id") { return problem }
        if safetyStock < 0 || safetyStock > Limits.maxStock {
            return ValidationProblem(field: "safety_stock", message: "safety_stock must be between 0 and \(Limits.maxStock)")
        }
        if percentageHundredths < 0 || percentageHundredths > 10_000 {
            return ValidationProblem(field: "percentage", message: "percentage must be between 0 and 100")
        }
        if let maximum, maximum < 0 || maximum > Limits.maxStock {
            return ValidationProblem(field: "max", message: "max must be between 0 and \(Limits.maxStock)")
        }
        if floor < 0 || floor > Limits.maxStock {
            return ValidationProblem(field: "floor", message: "floor must be between 0 and \(Limits.maxStock)")
        }
        var seen = Set<String>()
        for location in locations {
            if let problem = Limits.validateID(location, field: "locations") { return problem }
            if !seen.insert(location).inserted {
                return ValidationProblem(field: "locations", message: "location \(location) is listed twice")
            }
        }
        return nil
    }
}
