import ShadowEval
import XCTest

@testable import Coordinator

final class EvaluationScheduleTests: XCTestCase {
    private let start = ContinuousClock.now

    func testWithoutACadenceEveryWindowIsEvaluated() {
        var schedule = EvaluationSchedule(nil)
        XCTAssertTrue(schedule.stored(1, assignmentID: "a-1", at: start))
        XCTAssertTrue(schedule.stored(1, assignmentID: "a-1", at: start))
        XCTAssertEqual(schedule.overdue(at: start + .seconds(60)), [])
        XCTAssertNil(schedule.tick)
    }

    func testAStageIsDueAfterEnoughWindows() {
        var schedule = EvaluationSchedule(EvaluationCadence(everyWindows: 10, everyMillis: 1_000))
        XCTAssertFalse(schedule.stored(4, assignmentID: "a-1", at: start))
        XCTAssertFalse(schedule.stored(5, assignmentID: "a-1", at: start + .milliseconds(10)))
        XCTAssertFalse(schedule.stored(9, assignmentID: "a-2", at: start), "stages count their own windows")
        XCTAssertTrue(schedule.stored(1, assignmentID: "a-1", at: start + .milliseconds(20)))
        schedule.evaluated("a-1", at: start + .milliseconds(20))
        XCTAssertFalse(schedule.stored(1, assignmentID: "a-1", at: start + .milliseconds(30)), "the count starts again")
    }

    func testAStageWithWindowsWaitingIsDueOnceItsTimeHasPassed() {
        var schedule = EvaluationSchedule(EvaluationCadence(everyWindows: 100, everyMillis: 1_000))
        XCTAssertFalse(schedule.stored(1, assignmentID: "a-1", at: start))
        XCTAssertEqual(schedule.overdue(at: start + .milliseconds(999)), [])
        XCTAssertEqual(schedule.overdue(at: start + .milliseconds(1_000)), ["a-1"])
        XCTAssertTrue(schedule.stored(1, assignmentID: "a-1", at: start + .milliseconds(1_200)), "a window after the time is due at once")
        schedule.evaluated("a-1", at: start + .milliseconds(1_200))
        XCTAssertEqual(schedule.overdue(at: start + .seconds(10)), [], "no window waiting: nothing to evaluate")
        XCTAssertEqual(schedule.tick, .milliseconds(250))
    }

    func testAForgottenStageStartsAfresh() {
        var schedule = EvaluationSchedule(EvaluationCadence(everyWindows: 3, everyMillis: 1_000))
        XCTAssertFalse(schedule.stored(2, assignmentID: "a-1", at: start))
        schedule.forget("a-1")
        XCTAssertEqual(schedule.overdue(at: start + .seconds(5)), [])
        XCTAssertFalse(schedule.stored(1, assignmentID: "a-1", at: start + .seconds(5)))
    }
}
