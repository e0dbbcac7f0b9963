import StockyardChannels
import StockyardCore
import StockyardRedis

/// Builds the journal entries of a batch: one Stream entry per kind, one tab-separated line
/// per event or change, readable by a person and by a replay tool.
package struct JournalBuilder {
    private(set) var entries: [JournalEntry] = []

    /// `channel listing order line quantity version result` per event.
    package mutating func events<S: Sequence>(_ events: S, kind: String) where S.Element == (SaleEvent, EventOutcome) {
        var body: [UInt8] = []
        body.reserveCapacity(events.underestimatedCount * 64)
        for (event, outcome) in events { appendEvent(&body, event, outcome) }
        add(kind, body)
    }

    /// The same for a delivery's lines and their outcomes, read where they lie.
    package mutating func events(_ lines: [ChannelLine], _ outcomes: [EventOutcome], kind: String) {
        var body: [UInt8] = []
        body.reserveCapacity(outcomes.count * 64)
        for index in 0..<min(lines.count, outcomes.count) { appendEvent(&body, lines[index].event, outcomes[index]) }
        add(kind, body)
    }

    private func appendEvent(_ body: inout [UInt8], _ event: SaleEvent, _ outcome: EventOutcome) {
        appendField(&body, event.channel.name)
        appendField(&body, event.listingID)
        appendField(&body, event.orderID)
        appendField(&body, event.lineID)
        appendDecimal(&body, event.quantity)
        body.append(0x09)
        appendDecimal(&body, event.version)
        body.append(0x09)
        body.append(contentsOf: (event.locationID ?? "-").utf8)
        body.append(0x09)
        body.append(contentsOf: outcome.result.name.utf8)
        body.append(0x0A)
    }

    /// `channel listing target locations` per listing map.
    package mutating func listings(_ maps: [ListingMap]) {
        var body: [UInt8] = []
        for map in maps {
            let target: String
            switch map.target {
            case .item(let item): target = "item=\(item)"
            case .bundle(let components):
                target = "bundle=" + components.map { "\($0.itemID)x\($0.quantity)" }.joined(separator: ",")
            }
            append(&body, map.channel.name, map.listingID, target, map.locations.joined(separator: ","))
        }
        add("listings", body)
    }

    /// `item location zoho_on_hand` per setting.
    package mutating func stock(_ settings: [StockSetting]) {
        var body: [UInt8] = []
        for setting in settings {
            append(&body, setting.itemID, setting.locationID, String(setting.zohoOnHand))
        }
        add("stock", body)
    }

    package mutating func rules(_ rules: [AllocationRule]) {
        var body: [UInt8] = []
        for rule in rules {
            append(
                &body, rule.channel.name, rule.listingID ?? "*", "safety=\(rule.safetyStock)",
                "pct_hundredths=\(rule.percentageHundredths)", "max=\(rule.maximum.map(String.init) ?? "-")",
                "floor=\(rule.floor)", rule.locations.joined(separator: ","))
        }
        add("rules", body)
    }

    /// `item sku locations` per catalogue item.
    package mutating func items(_ items: [CatalogueItem]) {
        var body: [UInt8] = []
        for item in items {
            append(&body, item.itemID, item.sku, item.locations.joined(separator: ","))
        }
        add("items", body)
    }

    /// `what reference item location quantity [adjustment]` per line of a Zoho batch: `sealed`,
    /// `confirmed` (with Zoho's adjustment id), `split` or `rejected`.
    package mutating func zoho(_ what: String, _ batch: ZohoBatch, adjustmentID: String? = nil) {
        var body: [UInt8] = []
        for line in batch.lines {
            var fields = [what, batch.reference, line.itemID, line.locationID, String(line.quantity)]
            if let adjustmentID { fields.append(adjustmentID) }
            appendFields(&body, fields)
        }
        add("zoho", body)
    }

    /// `adjustment item location delta` per line of an adjustment made in Zoho.
    package mutating func zohoAdjustment(_ id: String, _ lines: [OnHandDelta]) {
        var body: [UInt8] = []
        for line in lines {
            appendFields(&body, [id, line.itemID, line.locationID, String(line.delta)])
        }
        add("zoho-adjustment", body)
    }

    /// `job kind resource shop` of a stored look-up job.
    package mutating func lookup(_ job: LookupJob) {
        var body: [UInt8] = []
        appendFields(&body, [job.id, job.kind.rawValue, job.resource, job.shopID ?? "-"])
        add("lookup", body)
    }

    /// Where the journal stands, to drop what a rolled-back job added.
    package struct Mark {
        fileprivate var lengths: [Int]
    }

    package var mark: Mark { Mark(lengths: entries.map(\.body.count)) }

    /// Drops everything added since `mark` (a job that was rolled back).
    package mutating func truncate(to mark: Mark) {
        if entries.count > mark.lengths.count { entries.removeLast(entries.count - mark.lengths.count) }
        for (index, length) in mark.lengths.enumerated() where entries[index].body.count > length {
            entries[index].body.removeLast(entries[index].body.count - length)
        }
    }

    /// Adds lines to the batch's entry of that kind: one Stream entry per batch and kind.
    private mutating func add(_ kind: String, _ body: [UInt8]) {
        guard !body.isEmpty else { return }
        if let index = entries.firstIndex(where: { $0.kind == kind }) {
            entries[index].body += body
        } else {
            entries.append(JournalEntry(kind: kind, body: body))
        }
    }

    /// Appends tab-separated fields and ends the line.
    private func append(_ body: inout [UInt8], _ fields: String...) {
        appendFields(&body, fields)
        body.append(0x0A)
    }

    private func appendFields(_ body: inout [UInt8], _ fields: [String]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { body.append(0x09) }
            body.append(contentsOf: field.utf8)
        }
    }

    private func appendField(_ body: inout [UInt8], _ field: String) {
        body.append(contentsOf: field.utf8)
        body.append(0x09)
    }

    private func appendDecimal(_ body: inout [UInt8], _ value: Int64) {
        if value < 0 { body.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var count = 0
            repeat {
                digits[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { body.append(digits[index]) }
        }
    }
}
