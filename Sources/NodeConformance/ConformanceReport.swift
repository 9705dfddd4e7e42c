/// The suite's results held against the expected failures.
public struct ConformanceReport: Sendable {
    public var passed: [String] = []
    public var expectedFailures: [String] = []
    /// Tests that failed without being listed, with why.
    public var unexpectedFailures: [String] = []
    /// Listed tests that passed: the list must lose them.
    public var unexpectedPasses: [String] = []
    /// Listed tests the suite does not have.
    public var unknownListed: [String] = []
    /// Tests whose outputs' shapes the shape rules stated at load, each held to the kernel's.
    public var shapeRuleChecks = 0

    public init(results: [NodeTestResult], expected: ExpectedFailures, ranWholeSuite: Bool) {
        for result in results {
            if result.checkedShapeRule { shapeRuleChecks += 1 }
            if expected.isRandom(result.name) {
                expectedFailures.append(result.name)
                continue
            }
            switch (result.failure, expected.reasons[result.name]) {
            case (nil, nil): passed.append(result.name)
            case (nil, _?): unexpectedPasses.append(result.name)
            case (let failure?, nil): unexpectedFailures.append("\(result.name): \(failure)")
            case (_?, _?): expectedFailures.append(result.name)
            }
        }
        if ranWholeSuite {
            let names = Set(results.map(\.name))
            unknownListed = expected.reasons.keys.filter { !names.contains($0) }.sorted()
        }
    }

    public var total: Int { passed.count + expectedFailures.count + unexpectedFailures.count + unexpectedPasses.count }
    public var passCount: Int { passed.count + unexpectedPasses.count }
    public var isClean: Bool { unexpectedFailures.isEmpty && unexpectedPasses.isEmpty && unknownListed.isEmpty }

    public var summary: String {
        "\(total) run, \(passCount) passed, \(expectedFailures.count) expected failures, "
            + "\(unexpectedFailures.count) unexpected failures, \(unexpectedPasses.count) unexpected passes; "
            + "the shape rules stated the output shapes of \(shapeRuleChecks) before they ran"
    }
}
