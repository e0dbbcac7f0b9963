/// An access token of a vendor's API, with what came with it: the refresh token when the vendor
/// rotates them (Etsy), the API host the vendor named for the account (Zoho's `api_domain`).
public struct AccessToken: Codable, Sendable, Hashable {
    public var accessToken: String
    /// Seconds since 1970 at which the token stops working.
    public var expiresAt: Double
    /// Seconds since 1970 at which it was issued (by our clock), for its lifetime.
    public var issuedAt: Double
    public var refreshToken: String?
    public var apiDomain: String?

    public init(accessToken: String, expiresAt: Double, issuedAt: Double, refreshToken: String? = nil, apiDomain: String? = nil) {
        self.accessToken = accessToken
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.refreshToken = refreshToken
        self.apiDomain = apiDomain
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case expiresAt = "expires_at"
        case issuedAt = "issued_at"
        case refreshToken = "refresh_token"
        case apiDomain = "api_domain"
    }

    /// How long before expiry it is replaced: five minutes, or a quarter of its lifetime when
    /// that is shorter, so a short-lived token is not refreshed on every call.
    public var refreshMargin: Double {
        min(TokenPolicy.maximumRefreshMargin, max(0, expiresAt - issuedAt) / 4)
    }

    /// True when it should be replaced before use at `now`.
    public func isDue(now: Double) -> Bool { now >= expiresAt - refreshMargin }

    /// True when it still works at `now` (with a second to reach the vendor).
    public func works(now: Double) -> Bool { expiresAt > now + 1 }
}
