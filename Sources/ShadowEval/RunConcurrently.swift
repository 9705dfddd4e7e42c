/// Runs `body` on every scenario, each on a task of its own, and returns the results in the
/// scenarios' order. `body` gets the scenario's index to pick its random stream with, so the
/// results do not depend on the order the tasks happen to run in.
func runConcurrently<Scenario: Sendable, Result: Sendable>(
    _ scenarios: [Scenario], _ body: @escaping @Sendable (_ index: Int, Scenario) -> Result
) async -> [Result] {
    await withTaskGroup(of: (Int, Result).self) { group in
        for (index, scenario) in scenarios.enumerated() {
            group.addTask { (index, body(index, scenario)) }
        }
        var results = [Result?](repeating: nil, count: scenarios.count)
        for await (index, result) in group { results[index] = result }
        return results.map { $0! }
    }
}
