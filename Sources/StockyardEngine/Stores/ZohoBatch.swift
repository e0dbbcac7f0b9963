import Foundation
import StockyardCore

/// Net changes sealed for one Zoho `inventoryadjustments` call. It is stored in Redis before the
/// call and removed when its outcome is recorded, so a batch found at start has an unknown
/// outcome until Zoho's recent adjustments say otherwise.
public struct ZohoBatch: Sendable, Hashable, Codable {
    public var id: String
    /// Sent as `reference_number`: unique per batch, found again in Zoho's list.
    public var reference: String
    /// `yyyy-MM-dd` in the organization's time zone, fixed when sealed.
    public var date: String
    /// Milliseconds since 1970 when sealed.
    public var sealedAt: Int64
    public var lines: [Line]

    /// One item × location net.
    public struct Line: Sendable, Hashable, Codable {
        public var itemID: String
        public var locationID: String
        public var quantity: Int64

        package enum CodingKeys: String, CodingKey {
            case itemID = "item_id"
            case locationID = "location_id"
            case quantity
        }
    }

    package enum CodingKeys: String, CodingKey {
        case id, reference, date, lines
        case sealedAt = "sealed_at"
    }

    public init(id: String, reference: String, date: String, sealedAt: Int64, lines: [Line]) {
        self.id = id
        self.reference = reference
        self.date = date
        self.sealedAt = sealedAt
        self.lines = lines
    }

    package var netLines: [NetLine] { lines.map { NetLine(itemID: $0.itemID, locationID: $0.locationID, quantity: $0.quantity) } }

    package var record: [UInt8] { Array((try? JSONEncoder().encode(self)) ?? Data()) }

    package init(record: [UInt8]) throws {
        self = try JSONDecoder().decode(ZohoBatch.self, from: Data(record))
    }
}

/// What a new batch will be called, before the writer knows its lines.
public struct ZohoBatchDraft: Sendable {
    public var id: String
    public var reference: String
    public var date: String
    public var sealedAt: Int64
    public var maxLines: Int

    package init(id: String, reference: String, date: String, sealedAt: Int64, maxLines: Int) {
        self.id = id
        self.reference = reference
        self.date = date
        self.sealedAt = sealedAt
        self.maxLines = maxLines
    }
}

/// Work on Zoho batches, done by the ledger writer in the same transaction as the stock change.
public enum ZohoJob: Sendable {
    /// Seals up to `maxLines` open nets into a new batch (none when nothing is open).
    case seal(ZohoBatchDraft)
    /// Zoho has the batch: its lines move from in flight into `zoho_on_hand`.
    case confirm(batchID: String, adjustmentID: String)
    /// Zoho refused the batch as a whole: smaller batches take its place (lines still in flight).
    case split(batchID: String, parts: [ZohoBatch])
    /// Zoho refused a one-line batch: the line stays in flight, kept as a dead letter.
    case reject(batchID: String, letter: DeadLetter)
    /// A refused line, replayed by a person: a new batch takes it (still in flight).
    case requeue(letterID: String, batch: ZohoBatch)
    /// A refused line a person gave up on: its units leave flight into `zoho_on_hand`, so
    /// `available` stays as it is and nothing waits on the row any more.
    case writeOff(letterID: String, lines: [ZohoBatch.Line])
    /// A dead letter whose replay was applied.
    case resolveLetter(String)
}

/// A Zoho line kept as a dead letter: what its body says.
package struct RefusedLine: Codable {
    package var item_id: String
    package var location_id: String
    package var quantity: Int64
    package var reference: String

    package static let kindHeader = DeadLetter.kindHeader
    package static let kind = "refused-line"

    package var line: ZohoBatch.Line { ZohoBatch.Line(itemID: item_id, locationID: location_id, quantity: quantity) }

    package init(_ line: ZohoBatch.Line, reference: String) {
        item_id = line.itemID
        location_id = line.locationID
        quantity = line.quantity
        self.reference = reference
    }

    /// The refused line a dead letter holds, or nil for any other letter.
    package init?(letter: DeadLetter) {
        guard letter.channel == "zoho", letter.headers[Self.kindHeader] == Self.kind,
            let decoded = try? JSONDecoder().decode(RefusedLine.self, from: Data(letter.body))
        else { return nil }
        self = decoded
    }

    package var body: [UInt8] { Array((try? JSONEncoder().encode(self)) ?? Data()) }
}
