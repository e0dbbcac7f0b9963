import StockyardCore

extension LedgerWriter {
    /// Stages work on a Zoho batch. The batch records change in the same transaction as the
    /// stock rows they describe, so Redis never holds one without the other.
    package func runZoho(_ job: ZohoJob, on ledger: Ledger, journal: inout JournalBuilder, inbox stage: inout InboxStage)
        -> Result<WriterOutcome, InvalidJobError>
    {
        switch job {
        case .seal(let draft):
            let sealed = ledger.sealNets(maxLines: draft.maxLines)
            guard !sealed.isEmpty else { return .success(.zohoBatch(nil)) }
            let batch = ZohoBatch(
                id: draft.id, reference: draft.reference, date: draft.date, sealedAt: draft.sealedAt,
                lines: sealed.map { ZohoBatch.Line(itemID: $0.itemID, locationID: $0.locationID, quantity: $0.quantity) })
            stage.zohoBatches.append(batch)
            journal.zoho("sealed", batch)
            return .success(.zohoBatch(batch))
        case .confirm(let batchID, let adjustmentID):
            // Settling twice (a retry after a lost answer) finds nothing the second time.
            guard let batch = inbox.zohoBatch(batchID) else { return .success(.stored) }
            ledger.resolveNets(batch.netLines, confirmed: true)
            stage.removedZohoBatches.append(batchID)
            journal.zoho("confirmed", batch, adjustmentID: adjustmentID)
            return .success(.stored)
        case .split(let batchID, let parts):
            guard let batch = inbox.zohoBatch(batchID) else { return .success(.stored) }
            precondition(
                parts.flatMap(\.lines).sorted(by: Self.lineOrder) == batch.lines.sorted(by: Self.lineOrder),
                "a split keeps the batch's lines")
            stage.removedZohoBatches.append(batchID)
            stage.zohoBatches += parts
            journal.zoho("split", batch)
            return .success(.stored)
        case .reject(let batchID, let letter):
            guard let batch = inbox.zohoBatch(batchID) else { return .success(.stored) }
            stage.removedZohoBatches.append(batchID)
            stage.deadLetters.append(letter)
            journal.zoho("rejected", batch)
            return .success(.stored)
        case .requeue(let letterID, let batch):
            guard inbox.deadLetter(letterID) != nil else { return .success(.stored) }
            stage.removedDeadLetters.append(letterID)
            stage.zohoBatches.append(batch)
            journal.zoho("requeued", batch)
            return .success(.stored)
        case .writeOff(let letterID, let lines):
            guard let letter = inbox.deadLetter(letterID) else { return .success(.stored) }
            let batch = ZohoBatch(id: letterID, reference: RefusedLine(letter: letter)?.reference ?? letterID, date: "", sealedAt: 0, lines: lines)
            ledger.resolveNets(batch.netLines, confirmed: true)
            stage.removedDeadLetters.append(letterID)
            journal.zoho("written-off", batch)
            return .success(.stored)
        case .resolveLetter(let letterID):
            if inbox.deadLetter(letterID) != nil { stage.removedDeadLetters.append(letterID) }
            return .success(.stored)
        }
    }

    /// Applies an adjustment made in Zoho, once per adjustment id (remembered like a delivery id).
    package func runZohoAdjustment(
        id: String, lines: [OnHandDelta], on ledger: Ledger, now: UInt32, journal: inout JournalBuilder, inbox stage: inout InboxStage
    ) -> Result<WriterOutcome, InvalidJobError> {
        let fingerprint = Inbox.Fingerprint(zohoAdjustmentID: id)
        if isStagedDelivery(fingerprint) || inbox.seen(fingerprint) { return .success(.zohoAdjustment(applied: false)) }
        for (index, line) in lines.enumerated() {
            do {
                try ledger.adjustOnHand(itemID: line.itemID, locationID: line.locationID, delta: line.delta)
            } catch {
                return .failure(InvalidJobError(index: index, problem: error))
            }
        }
        stage.deliveries.append((fingerprint, "zoho:\(id)", Int64(now) + configuration.deliveryRetentionSeconds))
        journal.zohoAdjustment(id, lines)
        return .success(.zohoAdjustment(applied: true))
    }

    private static func lineOrder(_ a: ZohoBatch.Line, _ b: ZohoBatch.Line) -> Bool {
        (a.itemID, a.locationID, a.quantity) < (b.itemID, b.locationID, b.quantity)
    }
}
