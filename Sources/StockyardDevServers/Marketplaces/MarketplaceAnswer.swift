import Foundation

/// An answer of the sandbox: status, extra headers and the JSON body's bytes.
struct MarketplaceAnswer: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8]

    /// An answer whose body is `object` serialized.
    static func json(_ status: Int, _ object: [String: any Sendable], headers: [(String, String)] = []) -> MarketplaceAnswer {
        MarketplaceAnswer(status: status, headers: headers, body: JSONText.serialize(object))
    }

    /// An OAuth error (`{"error","error_description"}`), as both vendors' token endpoints answer.
    static func oauth(_ status: Int, _ error: String, _ description: String) -> MarketplaceAnswer {
        .json(status, ["error": error, "error_description": description])
    }

    /// An eBay REST error (`{"errors":[{errorId, domain, category, message, longMessage?}]}`).
    static func ebay(
        _ status: Int, id: Int, domain: String, category: String = "REQUEST", _ message: String, long: String? = nil,
        headers: [(String, String)] = []
    ) -> MarketplaceAnswer {
        var error: [String: any Sendable] = ["errorId": id, "domain": domain, "category": category, "message": message]
        if let long { error["longMessage"] = long }
        return .json(status, ["errors": [error]], headers: headers)
    }

    /// An Etsy error (`{"error": …}`).
    static func etsy(_ status: Int, _ error: String, headers: [(String, String)] = []) -> MarketplaceAnswer {
        .json(status, ["error": error], headers: headers)
    }

    /// A control-route refusal naming what is wrong.
    static func badRequest(_ message: String) -> MarketplaceAnswer {
        .json(400, ["error": message])
    }
}
