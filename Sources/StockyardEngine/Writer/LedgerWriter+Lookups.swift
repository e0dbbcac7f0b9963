import StockyardCore

extension LedgerWriter {
    /// Stages a look-up's end or its next attempt. A job no longer waiting is left alone, so a
    /// look-up finished twice (say, across a restart) applies its order once.
    package func runLookup(
        _ job: WriterJob, on ledger: Ledger, now: UInt32, journal: inout JournalBuilder, inbox stage: inout InboxStage
    ) -> Result<WriterOutcome, InvalidJobError> {
        switch job {
        case .lookupDone(let lookup, let delivery):
            guard isWaiting(lookup.id, stage) else { return .success(.lookupGone) }
            let result = runDelivery(delivery, on: ledger, now: now, journal: &journal, inbox: &stage)
            if case .success = result { stage.removedLookups.append(lookup.id) }
            return result
        case .lookupUpdate(let lookup, let letter):
            if let letter {
                // Replayed twice at once: the second finds the letter gone and puts nothing back.
                guard inbox.deadLetter(letter) != nil, !stage.removedDeadLetters.contains(letter) else { return .success(.lookupGone) }
                stage.removedDeadLetters.append(letter)
            } else if !isWaiting(lookup.id, stage) {
                return .success(.lookupGone)
            }
            stage.lookups.append(lookup)
            journal.lookup(lookup)
            return .success(.stored)
        case .lookupFailed(let lookup, let letter):
            guard isWaiting(lookup.id, stage) else { return .success(.lookupGone) }
            stage.removedLookups.append(lookup.id)
            stage.deadLetters.append(letter)
            return .success(.stored)
        default:
            preconditionFailure("not a look-up job")
        }
    }

    /// Whether the job waits, in the inbox or in this batch, and is not removed in this batch.
    private func isWaiting(_ id: String, _ stage: InboxStage) -> Bool {
        if stage.removedLookups.contains(id) { return false }
        return inbox.lookup(id) != nil || stage.lookups.contains { $0.id == id }
    }
}
