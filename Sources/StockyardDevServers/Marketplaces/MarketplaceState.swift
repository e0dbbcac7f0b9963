/// Everything the marketplace sandbox holds: each vendor's side and the faults in force.
struct MarketplaceState {
    var ebay: EbayState
    var etsy: EtsyState
    var faults = MarketplaceFaults()

    init(configuration: MarketplaceSandboxConfiguration, ebayPublicKeys: [String: String]) {
        ebay = EbayState(configuration: configuration, publicKeys: ebayPublicKeys)
        etsy = EtsyState(configuration: configuration)
    }

    /// Makes every live access token of both vendors expire; gives how many there were.
    mutating func expireTokens() -> Int {
        ebay.expireTokens() + etsy.expireTokens()
    }

    var statsJSON: [String: any Sendable] {
        ["ebay": ebay.stats.json, "etsy": etsy.stats.json]
    }
}

private let tokenAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

/// `count` random letters and digits, for tokens.
func randomToken(_ count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    while bytes.count < count {
        // Ten characters from each 64 random bits.
        var bits = generator.next()
        for _ in 0..<min(10, count - bytes.count) {
            bytes.append(tokenAlphabet[Int(bits % UInt64(tokenAlphabet.count))])
            bits /= UInt64(tokenAlphabet.count)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
