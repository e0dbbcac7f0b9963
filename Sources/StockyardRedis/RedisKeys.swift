import StockyardCore

/// The key layout. Order lines and stock rows are spread over shards whose keys carry a hash tag
/// (`{s07}`), so that a Redis Cluster can place each shard on its own node; configuration and
/// the journal live under the `{c}` tag.
public struct RedisKeys: Sendable {
    public let prefix: String
    public let shardCount: Int
    /// Key names are made once: every batch names dozens of them.
    private let lineKeys: [String]
    private let stockKeys: [String]

    /// Shards fixed for the life of a store: the layout depends on it.
    public static let defaultShardCount = 64
    /// Version of the stored format.
    public static let formatVersion = 1

    public init(prefix: String, shardCount: Int = RedisKeys.defaultShardCount) {
        self.prefix = prefix
        self.shardCount = shardCount
        self.lineKeys = (0..<shardCount).map { "\(prefix):{s\($0)}:lines" }
        self.stockKeys = (0..<shardCount).map { "\(prefix):{s\($0)}:stock" }
        self.consumptions = "\(prefix):{c}:consumptions"
        self.listings = "\(prefix):{c}:listings"
        self.rules = "\(prefix):{c}:rules"
        self.parked = "\(prefix):{c}:parked"
        self.conflicts = "\(prefix):{c}:conflicts"
        self.journal = "\(prefix):{c}:journal"
        self.meta = "\(prefix):{c}:meta"
        self.deliveries = "\(prefix):{c}:deliveries"
        self.deadLetters = "\(prefix):{c}:dead-letters"
        self.items = "\(prefix):{c}:items"
        self.lookups = "\(prefix):{c}:lookups"
        self.zohoBatches = "\(prefix):{c}:zoho:batches"
        self.zohoCorrections = "\(prefix):{c}:zoho:corrections"
    }

    public func lines(shard: Int) -> String { lineKeys[shard] }
    public func stock(shard: Int) -> String { stockKeys[shard] }
    public let consumptions: String
    public let listings: String
    public let rules: String
    public let parked: String
    public let conflicts: String
    public let journal: String
    public let meta: String
    /// Channel delivery ids seen lately (sorted set scored by expiry, seconds).
    public let deliveries: String
    /// Webhook bodies that could not be read, kept for a person (hash by id).
    public let deadLetters: String
    /// The item catalogue: item id to SKU and default locations (hash).
    public let items: String
    /// Notifications waiting for a look-up of their order in the channel's API (hash by job id).
    public let lookups: String
    /// Zoho batches sealed and not yet settled (hash by batch id).
    public let zohoBatches: String
    /// Per item × location, Zoho's modification time of the last absolute correction applied
    /// (hash: `item 0x1F location` → microseconds).
    public let zohoCorrections: String
    /// Times of an API's recent calls (sorted set, milliseconds), so a restart keeps its
    /// per-second and per-minute limits. `api` names the budget: `zoho`, `ebay`, `etsy`.
    public func apiCalls(_ api: String) -> String { "\(prefix):{c}:\(api):calls" }
    /// An API's calls on one day (counter).
    public func apiDay(_ api: String, _ day: Int) -> String { "\(prefix):{c}:\(api):day:\(day)" }
    /// Until when an API asked us to pause (string, milliseconds since 1970).
    public func apiPause(_ api: String) -> String { "\(prefix):{c}:\(api):paused-until" }
    /// A credential's cached access token (string), by name (`zoho`, `ebay:app`, `ebay:user`, `etsy`).
    public func token(_ credential: String) -> String { "\(prefix):{c}:\(credential):token" }
    /// Times of a credential's recent token requests (sorted set, milliseconds), so that a
    /// restarted or crash-looping service stays within the vendor's token-request limit.
    public func tokenRequests(_ credential: String) -> String { "\(prefix):{c}:\(credential):token-requests" }

    /// The shard of a byte string: a stable FNV-1a hash, never the process's randomised one.
    public func shard(of bytes: UnsafeRawBufferPointer) -> Int {
        var hash: UInt32 = 0x811c_9dc5
        for byte in bytes {
            hash = (hash ^ UInt32(byte)) &* 0x0100_0193
        }
        return Int(hash % UInt32(shardCount))
    }

    public func shard(of text: String) -> Int {
        var copy = text
        return copy.withUTF8 { shard(of: UnsafeRawBufferPointer($0)) }
    }
}
