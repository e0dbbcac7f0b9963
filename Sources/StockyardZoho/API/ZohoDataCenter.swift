/// A Zoho data centre: where an organization's accounts server lives.
public enum ZohoDataCenter: String, Sendable, CaseIterable {
    case com, eu, `in`, comAU = "com.au", jp, ca, comCN = "com.cn", sa, uk

    /// The accounts server that issues tokens for organizations in this data centre.
    public var accountsURL: String {
        switch self {
        case .ca: "https://accounts.zohocloud.ca"
        default: "https://accounts.zoho.\(rawValue)"
        }
    }

    /// The API host to use until a token response names one.
    public var defaultAPIURL: String {
        switch self {
        case .ca: "https://www.zohoapis.ca"
        default: "https://www.zohoapis.\(rawValue)"
        }
    }
}
