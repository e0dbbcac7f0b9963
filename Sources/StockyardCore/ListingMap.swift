/// Names one listing: an offer on one channel.
public struct ListingKey: Sendable, Hashable {
    public var channel: Channel
    public var listingID: String

    public init(channel: Channel, listingID: String) {
        self.channel = channel
        self.listingID = listingID
    }
}

/// One component of a bundle (a Zoho composite item).
public struct BundleComponent: Sendable, Hashable {
    public var itemID: String
    /// Units of the component one bundle consumes.
    public var quantity: Int64

    public init(itemID: String, quantity: Int64) {
        self.itemID = itemID
        self.quantity = quantity
    }
}

/// Which item (or bundle) a listing sells, and the locations it draws from in priority order.
public struct ListingMap: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        case item(String)
        case bundle([BundleComponent])
    }

    public var channel: Channel
    public var listingID: String
    public var target: Target
    public var locations: [String]

    public init(channel: Channel, listingID: String, target: Target, locations: [String]) {
        self.channel = channel
        self.listingID = listingID
        self.target = target
        self.locations = locations
    }

    public var key: ListingKey { ListingKey(channel: channel, listingID: listingID) }

    public var isBundle: Bool {
        if case .bundle = target { return true }
        return false
    }

    /// Largest number of components in a bundle.
    public static let maxComponents = 100
    /// Largest number of locations a listing may draw from.
    public static let maxLocations = 100

    public func validate() -> ValidationProblem? {
        if let problem = Limits.validateID(listingID, field: "listing_id") { return problem }
        switch target {
        case .item(let itemID):
            if let problem = Limits.validateID(itemID, field: "item_id") { return problem }
        case .bundle(let components):
            if components.isEmpty {
                return ValidationProblem(field: "components", message: "components must not be empty")
            }
            if components.count > Self.maxComponents {
                return ValidationProblem(field: "components", message: "a bundle has at most \(Self.maxComponents) components")
            }
            var seen = Set<String>()
            for component in components {
                if let problem = Limits.validateID(component.itemID, field: "components.item_id") { return problem }
                if component.quantity <= 0 || component.quantity > Limits.maxLineQuantity {
                    return ValidationProblem(
                        field: "components.quantity",
                        message: "components.quantity must be between 1 and \(Limits.maxLineQuantity)")
                }
                if !seen.insert(component.itemID).inserted {
                    return ValidationProblem(field: "components.item_id", message: "component \(component.itemID) is listed twice")
                }
            }
        }
        if locations.isEmpty {
            return ValidationProblem(field: "locations", message: "locations must name at least one location")
        }
        if locations.count > Self.maxLocations {
            return ValidationProblem(field: "locations", message: "a listing draws on at most \(Self.maxLocations) locations")
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
