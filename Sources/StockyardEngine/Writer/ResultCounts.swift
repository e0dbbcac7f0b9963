import StockyardCore

/// How many events ended with each result, for metrics and the `counts` of an answer.
package struct ResultCounts: Sendable {
    private var values = [Int](repeating: 0, count: EventResult.allCases.count)

    package init() {}

    package subscript(_ result: EventResult) -> Int {
        get { values[Int(result.rawValue)] }
        set { values[Int(result.rawValue)] = newValue }
    }
}
