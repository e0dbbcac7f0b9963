/// Where and how to reach Redis.
public struct RedisConfiguration: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var database: Int
    /// Sent with AUTH when set. Never logged.
    public var password: String?
    /// Seconds to wait for a connection.
    public var connectTimeout: Double
    /// Seconds to wait for a reply.
    public var commandTimeout: Double
    /// Prefix of every key, so that several stores can share one Redis.
    public var keyPrefix: String

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        database: Int = 0,
        password: String? = nil,
        connectTimeout: Double = 2,
        commandTimeout: Double = 5,
        keyPrefix: String = "stockyard"
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.password = password
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.keyPrefix = keyPrefix
    }

    /// Parses `redis://[:password@]host[:port][/db]`.
    public init(url: String, keyPrefix: String = "stockyard") throws(RedisError) {
        let scheme = "redis://"
        guard url.hasPrefix(scheme) else {
            throw RedisError(.configuration, "the Redis URL must start with redis://")
        }
        var rest = Substring(url.dropFirst(scheme.count))
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let secret = credentials[credentials.index(after: colon)...]
                password = secret.isEmpty ? nil : String(secret)
            } else if !credentials.isEmpty {
                password = String(credentials)
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !db.isEmpty {
                guard let value = Int(db), value >= 0, value < 10_000 else {
                    throw RedisError(.configuration, "the database in the Redis URL must be a number")
                }
                database = value
            }
        }
        var host = String(rest)
        var port = 6379
        if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let value = Int(rest[rest.index(after: colon)...]), value > 0, value < 65_536 else {
                throw RedisError(.configuration, "the port in the Redis URL must be between 1 and 65535")
            }
            port = value
        }
        guard !host.isEmpty else {
            throw RedisError(.configuration, "the Redis URL has no host")
        }
        self.init(host: host, port: port, database: database, password: password, keyPrefix: keyPrefix)
    }
}
