import Foundation
import StockyardRedis

/// A thread of its own for blocking calls (libcurl, hiredis), so that they never hold a thread
/// of Swift's cooperative pool. Work runs one piece at a time, in the order it was submitted.
public final class BlockingWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var work: [() -> Void] = []
    private var stopped = false

    /// `name` names the thread for `top -H`, `perf` and `/proc`; Linux keeps its first 15 bytes.
    public init(name: String) {
        let thread = Thread { [self] in
            Thread.nameCurrent(name)
            self.loop()
        }
        thread.start()
    }

    /// Runs `body` on the worker thread and returns its result.
    public func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            enqueue {
                do throws(E) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Lets the thread end once the work queued so far is done.
    public func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func enqueue(_ item: @escaping () -> Void) {
        condition.lock()
        work.append(item)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while work.isEmpty && !stopped { condition.wait() }
            if work.isEmpty && stopped {
                condition.unlock()
                return
            }
            let next = work.removeFirst()
            condition.unlock()
            next()
        }
    }
}
