import Synchronization

/// Threads of their own for one API's blocking calls (libcurl), each with its own client so
/// that connections stay open between calls. A caller may name the thread (a look-up worker
/// keeps its own); otherwise threads are taken in turn.
public final class WorkerPool<Client>: Sendable {
    /// What a thread owns; touched only on that thread.
    private final class Box: @unchecked Sendable {
        let client: Client
        init(_ client: Client) { self.client = client }
    }

    private let workers: [(worker: BlockingWorker, box: Box)]
    private let next = Atomic<Int>(0)

    /// `threads` threads named `<name>-<n>`, each with a client made by `make`.
    public init(name: String, threads: Int, make: () -> Client) {
        workers = (0..<max(1, threads)).map { (BlockingWorker(name: "\(name)-\($0)"), Box(make())) }
    }

    public var threads: Int { workers.count }

    /// Runs `body` with the client of thread `index` (modulo the number of threads), or of the
    /// next thread in turn.
    public func run<T: Sendable, E: Error>(
        on index: Int? = nil, _ body: @escaping @Sendable (Client) throws(E) -> T
    ) async throws(E) -> T {
        let chosen = index ?? next.add(1, ordering: .relaxed).oldValue
        let (worker, box) = workers[chosen % workers.count]
        return try await worker.run { () throws(E) -> T in try body(box.client) }
    }

    /// Lets the threads end once the work queued so far is done.
    public func stop() {
        for (worker, _) in workers { worker.stop() }
    }
}
