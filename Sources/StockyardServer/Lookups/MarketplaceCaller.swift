import Foundation
import StockyardZoho

/// Runs one marketplace's API calls on threads of its own (libcurl blocks), one client per
/// thread so connections stay open; callers name the thread, so each look-up worker keeps its own.
final class MarketplaceCaller<Client>: Sendable {
    private final class Box: @unchecked Sendable {
        let client: Client
        init(_ client: Client) { self.client = client }
    }

    private let workers: [(worker: BlockingWorker, box: Box)]

    init(name: String, threads: Int, make: () -> Client) {
        workers = (0..<max(1, threads)).map { (BlockingWorker(name: "\(name)-\($0)"), Box(make())) }
    }

    var threads: Int { workers.count }

    /// Runs `body` with the client of thread `index` (modulo the number of threads).
    func run<T: Sendable>(
        on index: Int, _ body: @escaping @Sendable (Client) throws(MarketplaceAPIError) -> T
    ) async throws(MarketplaceAPIError) -> T {
        let (worker, box) = workers[index % workers.count]
        return try await worker.run { () throws(MarketplaceAPIError) -> T in try body(box.client) }
    }

    func stop() {
        for (worker, _) in workers { worker.stop() }
    }
}
