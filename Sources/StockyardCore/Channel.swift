/// A sales channel whose orders draw on the stock.
public enum Channel: UInt8, Sendable, CaseIterable, Hashable, Comparable {
    case shopify = 1
    case amazon = 2
    case ebay = 3
    case etsy = 4

    /// The lower-case name used on the wire and in storage.
    public var name: String {
        switch self {
        case .shopify: "shopify"
        case .amazon: "amazon"
        case .ebay: "ebay"
        case .etsy: "etsy"
        }
    }

    public init?(name: String) {
        switch name {
        case "shopify": self = .shopify
        case "amazon": self = .amazon
        case "ebay": self = .ebay
        case "etsy": self = .etsy
        default: return nil
        }
    }

    public static func < (lhs: Channel, rhs: Channel) -> Bool { lhs.rawValue < rhs.rawValue }
}
