import StockyardCore

/// The key layout. Order lines and stock rows are spread over shards whose keys carry a hash tag
/// (`{s07}`), so that a Redis Cluster can place each shard on its own node; configuration and
/// the journal live under the `{c}` tag.
public struct RedisKeys: Sendable {
    public let prefix: String
    public let shardCount: Int

    /// Shards fixed for the life of a store: the layout depends on it.
    public static let defaultShardCount = 64
    /// Version of the stored format.
    public static let formatVersion = 1

    public init(prefix: String, shardCount: Int = RedisKeys.defaultShardCount) {
        self.prefix = prefix
        self.shardCount = shardCount
    }

    public func lines(shard: Int) -> String { "\(prefix):{s\(shard)}:lines" }
    public func stock(shard: Int) -> String { "\(prefix):{s\(shard)}:stock" }
    public var consumptions: String { "\(prefix):{c}:consumptions" }
    public var listings: String { "\(prefix):{c}:listings" }
    public var rules: String { "\(prefix):{c}:rules" }
    public var parked: String { "\(prefix):{c}:parked" }
    public var conflicts: String { "\(prefix):{c}:conflicts" }
    public var journal: String { "\(prefix):{c}:journal" }
    public var meta: String { "\(prefix):{c}:meta" }
    /// Channel delivery ids seen lately (sorted set scored by expiry, seconds).
    public var deliveries: String { "\(prefix):{c}:deliveries" }
    /// Webhook bodies that could not be read, kept for a person (hash by id).
    public var deadLetters: String { "\(prefix):{c}:dead-letters" }
    /// The item catalogue: item id to SKU and default locations (hash).
    public var items: String { "\(prefix):{c}:items" }
    /// Notifications waiting for a look-up of their order in the channel's API (hash by job id).
    public var lookups: String { "\(prefix):{c}:lookups" }
    /// Zoho batches sealed and not yet settled (hash by batch id).
    public var zohoBatches: String { "\(prefix):{c}:zoho:batches" }
    /// Times of recent Zoho calls (sorted set, milliseconds), so a restart keeps the per-minute limit.
    public var zohoCalls: String { "\(prefix):{c}:zoho:calls" }
    /// Zoho calls made on one day of the organization (counter).
    public func zohoDay(_ day: Int) -> String { "\(prefix):{c}:zoho:day:\(day)" }
    /// The cached Zoho access token (string).
    public var zohoToken: String { "\(prefix):{c}:zoho:token" }
    /// A marketplace's cached access token (string), by name (`ebay:app`, `ebay:user`, `etsy`).
    public func channelToken(_ name: String) -> String { "\(prefix):{c}:\(name):token" }

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
