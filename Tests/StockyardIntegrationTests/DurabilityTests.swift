import Foundation
import Testing

/// Acknowledged means stored: across a crash of the service and an outage of Redis.
@Suite(.serialized) struct DurabilityTests {
    static let onHand = 1_000_000

    private func prepare(_ api: APIClient) throws {
        #expect(try api.send("PUT", "/v1/stock", json: ["stock": [["item_id": "SKU-S", "location_id": "WH-A", "zoho_on_hand": Self.onHand]]]).status == 200)
        #expect(try api.send("PUT", "/v1/listings", json: ["listings": [["channel": "shopify", "listing_id": "V-S", "item_id": "SKU-S", "locations": ["WH-A"]]]]).status == 200)
    }

    @Test func killNineMidStormLosesNothingAcknowledged() throws {
        let redis = try RedisServer()
        let service = try ServiceProcess(redisURL: redis.url)
        let api = APIClient(baseURL: service.baseURL)
        try prepare(api)

        let storm = Storm(baseURL: service.baseURL, listing: "V-S")
        let threads = storm.run(connections: 8)
        try waitUntil("150 acknowledged requests", timeout: 120) { storm.acknowledgedCount >= 150 }
        service.kill9()
        storm.stop()
        for thread in threads { while !thread.isFinished { usleep(1_000) } }

        try service.start()
        let restarted = APIClient(baseURL: service.baseURL)
        let stored = try storm.verify(api: restarted, item: "SKU-S", location: "WH-A", onHand: Self.onHand)
        #expect(stored >= storm.acknowledgedCount)
        #expect(service.terminate() == 0)
    }

    @Test func redisOutageAnswers503AndRecoversWithoutRestart() throws {
        let redis = try RedisServer()
        let service = try ServiceProcess(redisURL: redis.url)
        let api = APIClient(baseURL: service.baseURL)
        try prepare(api)

        let storm = Storm(baseURL: service.baseURL, listing: "V-S")
        let threads = storm.run(connections: 6)
        try waitUntil("100 acknowledged requests", timeout: 120) { storm.acknowledgedCount >= 100 }
        try redis.stop()
        try waitUntil("requests refused with 503", timeout: 60) { storm.refusedCount >= 20 }
        #expect(storm.sawRetryAfter)

        let ready = try api.send("GET", "/readyz")
        #expect(ready.status == 503)
        #expect(ready.json["redis_reachable"] as? Bool == false)
        let read = try api.send("GET", "/v1/stock/SKU-S")
        #expect(read.status == 200)
        #expect(read.json["stale"] as? Bool == true)

        let acknowledgedDuringOutage = storm.acknowledgedCount
        try redis.start()
        try service.waitUntilReady()
        try waitUntil("writes acknowledged again", timeout: 60) { storm.acknowledgedCount >= acknowledgedDuringOutage + 50 }
        storm.stop()
        for thread in threads { while !thread.isFinished { usleep(1_000) } }

        let stored = try storm.verify(api: api, item: "SKU-S", location: "WH-A", onHand: Self.onHand)
        #expect(stored >= storm.acknowledgedCount)
        #expect(service.terminate() == 0)
    }
}
