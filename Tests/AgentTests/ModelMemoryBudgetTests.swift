import XCTest

@testable import Agent

final class ModelMemoryBudgetTests: XCTestCase {
    func testAnAssignmentFitsBesideTheOtherNamesOrIsRefusedWithTheFigures() throws {
        let budget = ModelMemoryBudget(bytes: 1_000)
        XCTAssertNil(budget.refusal(needed: 600, others: 400, estimated: true), "exactly the budget fits")
        let estimate = try XCTUnwrap(budget.refusal(needed: 601, others: 400, estimated: true))
        XCTAssertEqual(
            estimate,
            "over the agent's memory budget: its models' files alone take 601 bytes, the models of the agent's other model names hold 400, "
                + "and model-memory-budget-bytes is 1000")
        XCTAssertTrue(try XCTUnwrap(budget.refusal(needed: 1_001, others: 0, estimated: false)).contains("its loaded models hold 1001 bytes"))
        XCTAssertNil(ModelMemoryBudget(bytes: nil).refusal(needed: .max / 2, others: .max / 2, estimated: false), "no budget")
    }
}
