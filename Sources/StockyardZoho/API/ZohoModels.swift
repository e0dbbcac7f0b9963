/// Where and as whom to call the Inventory API.
public struct ZohoEndpoint: Sendable {
    /// The API root, e.g. `https://www.zohoapis.com/inventory/v1`.
    public var apiRoot: String
    public var organizationID: String
    public var accessToken: String

    public init(apiRoot: String, organizationID: String, accessToken: String) {
        self.apiRoot = apiRoot
        self.organizationID = organizationID
        self.accessToken = accessToken
    }
}

/// One line of an inventory adjustment: an item's quantity change at one location.
public struct AdjustmentLine: Sendable, Hashable, Codable {
    public var itemID: String
    public var locationID: String
    public var quantityAdjusted: Double

    public init(itemID: String, locationID: String, quantityAdjusted: Double) {
        self.itemID = itemID
        self.locationID = locationID
        self.quantityAdjusted = quantityAdjusted
    }

    enum CodingKeys: String, CodingKey {
        case itemID = "item_id"
        case locationID = "location_id"
        case quantityAdjusted = "quantity_adjusted"
    }
}

/// The body of `POST /inventoryadjustments` (`adjustment_type` is always `quantity`).
public struct AdjustmentRequest: Sendable, Hashable, Codable {
    /// `yyyy-MM-dd` in the organization's time zone.
    public var date: String
    public var reason: String
    public var description: String?
    public var referenceNumber: String
    public var adjustmentType: String = "quantity"
    public var lineItems: [AdjustmentLine]

    public init(date: String, reason: String, description: String? = nil, referenceNumber: String, lineItems: [AdjustmentLine]) {
        self.date = date
        self.reason = reason
        self.description = description
        self.referenceNumber = referenceNumber
        self.lineItems = lineItems
    }

    enum CodingKeys: String, CodingKey {
        case date, reason, description
        case referenceNumber = "reference_number"
        case adjustmentType = "adjustment_type"
        case lineItems = "line_items"
    }
}

/// An adjustment as Zoho lists or returns it.
public struct Adjustment: Sendable, Hashable, Codable {
    public var inventoryAdjustmentID: String
    public var date: String?
    public var reason: String?
    public var referenceNumber: String?
    public var adjustmentType: String?
    /// Present when one adjustment is read or created; lists leave it out.
    public var lineItems: [AdjustmentLine]?

    public init(
        inventoryAdjustmentID: String, date: String? = nil, reason: String? = nil, referenceNumber: String? = nil,
        adjustmentType: String? = nil, lineItems: [AdjustmentLine]? = nil
    ) {
        self.inventoryAdjustmentID = inventoryAdjustmentID
        self.date = date
        self.reason = reason
        self.referenceNumber = referenceNumber
        self.adjustmentType = adjustmentType
        self.lineItems = lineItems
    }

    enum CodingKeys: String, CodingKey {
        case inventoryAdjustmentID = "inventory_adjustment_id"
        case date, reason
        case referenceNumber = "reference_number"
        case adjustmentType = "adjustment_type"
        case lineItems = "line_items"
    }
}

/// An item's stock at one location, as `GET /items` reports it.
public struct ItemLocationStock: Sendable, Hashable {
    public var locationID: String
    /// `location_stock_on_hand` (Zoho sends it as a string).
    public var stockOnHand: Double?

    public init(locationID: String, stockOnHand: Double?) {
        self.locationID = locationID
        self.stockOnHand = stockOnHand
    }
}

/// An item of Zoho's catalogue, with its per-location stock.
public struct ZohoItem: Sendable, Hashable {
    public var itemID: String
    public var sku: String?
    public var name: String?
    public var locations: [ItemLocationStock]

    public init(itemID: String, sku: String?, name: String?, locations: [ItemLocationStock]) {
        self.itemID = itemID
        self.sku = sku
        self.name = name
        self.locations = locations
    }
}

/// A Zoho location (warehouse).
public struct ZohoLocation: Sendable, Hashable {
    public var locationID: String
    public var locationName: String?
}

/// One page of a list, and whether there is another.
public struct ZohoPage<Element: Sendable>: Sendable {
    public var elements: [Element]
    public var hasMorePage: Bool
}
