import Foundation
import Logging

/// Writes one JSON object per log line to standard error: time, level, label, message and
/// metadata as fields.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private static let lock = NSLock()

    public init(label: String, level: Logger.Level = .info) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var writer = JSONWriter(capacity: 256)
        writer.raw("{\"time\":")
        writer.string(Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)))
        writer.raw(",\"level\":")
        writer.string(event.level.rawValue)
        writer.raw(",\"logger\":")
        writer.string(label)
        writer.raw(",\"message\":")
        writer.string(event.message.description)
        for key in merged.keys.sorted() {
            writer.raw(",")
            writer.string(key == "hb.request.id" ? "request_id" : key)
            writer.raw(":")
            writer.string(merged[key]!.description)
        }
        writer.raw("}\n")
        Self.lock.lock()
        FileHandle.standardError.write(Data(writer.bytes))
        Self.lock.unlock()
    }
}
