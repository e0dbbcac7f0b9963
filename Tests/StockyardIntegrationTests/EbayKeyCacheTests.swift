import Crypto
import Foundation
import StockyardMarketplaces
import StockyardOutbound
import Synchronization
import Testing

/// eBay's notification keys: pinned first, fetched once and kept, failures held briefly, and
/// a flood of made-up key ids kept from spending eBay's call limit.
@Suite struct EbayKeyCacheTests {
    private final class Calls: Sendable {
        let count = Atomic<Int>(0)
    }

    /// A clock the test moves by hand (whole seconds since 1970).
    private final class TestClock: Sendable {
        private let seconds = Atomic<Int>(1_800_000_000)
        var read: @Sendable () -> Double { { Double(self.seconds.load(ordering: .relaxed)) } }
        func advance(_ by: Int) { seconds.add(by, ordering: .relaxed) }
    }

    @Test func pinnedKeysNeedNoFetch() async throws {
        let pem = P256.Signing.PrivateKey().publicKey.pemRepresentation
        let cache = EbayKeyCache(pinned: ["kid-1": pem], fetch: nil)
        #expect(try await cache.key("kid-1") == pem)
        await #expect(throws: OutboundError.self) { try await cache.key("kid-2") }
    }

    @Test func aFetchedKeyIsKeptAndConcurrentAsksShareOneFetch() async throws {
        let pem = P256.Signing.PrivateKey().publicKey.pemRepresentation
        let calls = Calls()
        let cache = EbayKeyCache(pinned: [:], lifetime: 3600) { kid throws(OutboundError) in
            calls.count.add(1, ordering: .relaxed)
            return pem
        }
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await cache.key("kid-9") } }
            for try await key in group { #expect(key == pem) }
        }
        #expect(try await cache.key("kid-9") == pem)
        #expect(calls.count.load(ordering: .relaxed) == 1)
    }

    @Test func eBaysOneLinePEMIsRead() async throws {
        // eBay's endpoint returns the markers and the base64 on one line.
        let pem = P256.Signing.PrivateKey().publicKey.pemRepresentation.replacingOccurrences(of: "\n", with: "")
        let cache = EbayKeyCache(pinned: [:]) { _ throws(OutboundError) in pem }
        #expect(try await cache.key("kid-1") == pem)
    }

    @Test func aFailedFetchIsHeldThenTriedAgain() async throws {
        let calls = Calls()
        let clock = TestClock()
        let pem = P256.Signing.PrivateKey().publicKey.pemRepresentation
        let cache = EbayKeyCache(pinned: [:], failureHoldSeconds: 5, clock: clock.read) { _ throws(OutboundError) in
            if calls.count.add(1, ordering: .relaxed).newValue == 1 {
                throw OutboundError(.serverError, status: 500, message: "down")
            }
            return pem
        }
        await #expect(throws: OutboundError.self) { try await cache.key("kid-1") }
        // Held: answered from the failure without asking eBay again.
        clock.advance(4)
        await #expect(throws: OutboundError.self) { try await cache.key("kid-1") }
        #expect(calls.count.load(ordering: .relaxed) == 1)
        clock.advance(2)
        #expect(try await cache.key("kid-1") == pem)
        #expect(calls.count.load(ordering: .relaxed) == 2)
    }

    @Test func madeUpKeyIDsAreFetchedAtMostTwentyTimesAMinute() async throws {
        let calls = Calls()
        // A clock that stands still: however slowly the loop runs, it stays within one minute.
        let cache = EbayKeyCache(pinned: [:], clock: TestClock().read) { _ throws(OutboundError) in
            calls.count.add(1, ordering: .relaxed)
            throw OutboundError(.notFound, status: 404, message: "no such key")
        }
        var limited = 0
        for index in 0..<50 {
            do {
                _ = try await cache.key("made-up-\(index)")
            } catch {
                if error.code == .rateLimited { limited += 1 }
            }
        }
        #expect(calls.count.load(ordering: .relaxed) == 20)
        #expect(limited == 30)
    }

    @Test func backoffDoublesWithJitterUpToTheCap() {
        let configuration = LookupConfiguration(maxAttempts: 10, firstBackoffSeconds: 2, maxBackoffSeconds: 60)
        for (attempts, base) in [(1, 2.0), (2, 4), (3, 8), (5, 32), (6, 60), (9, 60)] {
            let wait = configuration.backoff(afterAttempts: attempts)
            #expect(wait >= base * 0.8 && wait <= base * 1.2, "attempt \(attempts): \(wait)")
        }
    }
}
