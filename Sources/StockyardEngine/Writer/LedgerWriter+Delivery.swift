import StockyardChannels
import StockyardCore

extension LedgerWriter {
    /// Stages one channel delivery: a fast answer for a delivery id stored lately; otherwise
    /// self-mapping listings, the lines, the edits, and the delivery id, all in one job.
    package func runDelivery(
        _ job: DeliveryJob, on ledger: Ledger, now: UInt32, journal: inout JournalBuilder, inbox stage: inout InboxStage
    ) -> Result<WriterOutcome, InvalidJobError> {
        var outcome = DeliveryOutcome()
        if let resolved = job.resolvesDeadLetter { stage.removedDeadLetters.append(resolved) }
        var fingerprint: Inbox.Fingerprint?
        if let id = job.deliveryID {
            let seen = Inbox.Fingerprint(channel: job.channel, deliveryID: id)
            if isStagedDelivery(seen) || inbox.seen(seen) {
                outcome.duplicateDelivery = true
                return .success(.delivery(outcome))
            }
            fingerprint = seen
        }
        outcome.lines.reserveCapacity(job.lines.count)
        for index in job.lines.indices {
            if let sku = job.lines[index].sku, let item = catalogueItem(sku: sku) {
                let key = ListingKey(channel: job.lines[index].event.channel, listingID: job.lines[index].event.listingID)
                if !ledger.isMapped(key), let replayed = autoMap(key, to: item, on: ledger, now: now, journal: &journal) {
                    outcome.autoMapped.append(key)
                    outcome.replayed += replayed
                }
            }
            let result = ledger.apply(validated: job.lines[index].event, now: now)
            if result.result == .invalid {
                return .failure(InvalidJobError(index: index, problem: result.problem!))
            }
            outcome.lines.append(result)
        }
        var adjusted: [(SaleEvent, EventOutcome)] = []
        for adjustment in job.adjustments {
            if let (event, result) = ledger.adjust(adjustment, now: now) {
                outcome.adjustments.append(ReplayedEvent(event: event, outcome: result))
                adjusted.append((event, result))
            } else {
                outcome.adjustments.append(nil)
            }
        }
        if let fingerprint, let id = job.deliveryID {
            stage.deliveries.append(
                (fingerprint, "\(job.channel.name):\(id)", Int64(now) + configuration.deliveryRetentionSeconds))
        }
        // Lines, then edits, in one entry of the channel's kind.
        journal.events(job.lines, outcome.lines, kind: job.channel.name)
        journal.events(adjusted, kind: job.channel.name)
        journal.events(outcome.replayed.map { ($0.event, $0.outcome) }, kind: "replay")
        return .success(.delivery(outcome))
    }

    /// Maps a listing to a catalogue item at the item's locations (or wherever it has stock
    /// rows), replaying what waited for it. Nil when no location is known.
    package func autoMap(
        _ key: ListingKey, to item: CatalogueItem, on ledger: Ledger, now: UInt32, journal: inout JournalBuilder
    ) -> [ReplayedEvent]? {
        let locations = item.locations.isEmpty ? ledger.stockLocations(itemID: item.itemID) : item.locations
        guard !locations.isEmpty else { return nil }
        let map = ListingMap(channel: key.channel, listingID: key.listingID, target: .item(item.itemID), locations: locations)
        guard map.validate() == nil, let replayed = try? ledger.upsertListing(map, now: now) else { return nil }
        journal.listings([map])
        return replayed.map { ReplayedEvent(event: $0.0, outcome: $0.1) }
    }
}
