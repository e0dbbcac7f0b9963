import Foundation
import StockyardCore

/// The ledger behind a lock. The writer stages and commits under it; readers take it briefly
/// and see committed state only.
public final class LockedLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var ledger: Ledger

    package init(_ ledger: Ledger) {
        self.ledger = ledger
    }

    /// Runs `body` with the ledger, holding the lock.
    public func withLock<R>(_ body: (Ledger) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(ledger)
    }

    /// Puts a freshly loaded ledger in place.
    package func replace(with fresh: Ledger) {
        lock.lock()
        ledger = fresh
        lock.unlock()
    }
}
