import Foundation
import StockyardCore
import StockyardEngine
import StockyardMarketplaces
import StockyardOutbound
import StockyardZoho

/// An id given as a JSON string or integer (integers are kept exactly, never as Double).
struct FlexibleID: Decodable {
    var value: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            value = text
        } else if let number = try? container.decode(Int64.self) {
            value = String(number)
        } else if let number = try? container.decode(UInt64.self) {
            value = String(number)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a string or an integer")
        }
    }
}

/// A whole number; a fraction or a value out of range is refused with the field named.
struct WholeNumber: Decodable {
    var value: Int64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            value = number
        } else if (try? container.decode(Double.self)) != nil {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a whole number within ±9223372036854775807")
        } else {
            throw DecodingError.typeMismatch(
                Int64.self, .init(codingPath: container.codingPath, debugDescription: "expected a whole number"))
        }
    }
}

/// A channel name, refused when unknown.
struct ChannelName: Decodable {
    var channel: Channel

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let channel = Channel(name: name) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "unknown channel '\(name)'; expected one of \(Channel.allCases.map(\.name).joined(separator: ", "))")
        }
        self.channel = channel
    }
}

/// A source version: a non-negative integer, or an RFC 3339 timestamp.
struct VersionValue: Decodable {
    var value: Int64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            value = number
        } else if let text = try? container.decode(String.self) {
            guard let micros = SourceVersion.parseTimestamp(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "must be an integer or an RFC 3339 timestamp, got '\(text)'")
            }
            value = micros
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be an integer or an RFC 3339 timestamp")
        }
    }
}

struct EventsBody: Decodable {
    struct Event: Decodable {
        var channel: ChannelName
        var listing_id: FlexibleID
        var order_id: FlexibleID
        var line_id: FlexibleID
        var quantity: WholeNumber
        var version: VersionValue
        var location_id: FlexibleID?

        var saleEvent: SaleEvent {
            SaleEvent(
                channel: channel.channel, listingID: listing_id.value, orderID: order_id.value, lineID: line_id.value,
                quantity: quantity.value, version: version.value, locationID: location_id?.value)
        }
    }

    var events: [Event]
}

struct ListingsBody: Decodable {
    struct Listing: Decodable {
        struct Component: Decodable {
            var item_id: FlexibleID
            var quantity: WholeNumber
        }

        var channel: ChannelName
        var listing_id: FlexibleID
        var item_id: FlexibleID?
        var components: [Component]?
        var locations: [FlexibleID]
    }

    var listings: [Listing]
}

struct StockBody: Decodable {
    struct Setting: Decodable {
        var item_id: FlexibleID
        var location_id: FlexibleID
        var zoho_on_hand: WholeNumber
    }

    var stock: [Setting]
}

struct RulesBody: Decodable {
    struct Rule: Decodable {
        var channel: ChannelName
        var listing_id: FlexibleID?
        var safety_stock: WholeNumber?
        var percentage: Double?
        var max: WholeNumber?
        var floor: WholeNumber?
        var locations: [FlexibleID]?
    }

    var rules: [Rule]
}
