/// Bodies kept for a person (webhooks that could not be read, look-ups given up on, lines Zoho
/// refused), by id; ids sort by arrival.
package struct DeadLetterStore {
    package var letters: [String: DeadLetter] = [:]

    package init() {}

    package var count: Int { letters.count }

    package subscript(id: String) -> DeadLetter? { letters[id] }

    /// Dead letters, oldest first, after the id `after`.
    package func list(after: String?, limit: Int) -> [DeadLetter] {
        let ids = letters.keys.filter { after == nil || $0 > after! }.sorted().prefix(limit)
        return ids.map { letters[$0]! }
    }

    package mutating func apply(added: [DeadLetter], removed: [String]) {
        for letter in added { letters[letter.id] = letter }
        for id in removed { letters[id] = nil }
    }
}
