import Foundation
import Ledger
import XCTest

@testable import Coordinator

final class StageSelectionTests: XCTestCase {
    private func agent(_ id: String, site: String, deviceClass: String = "pi5") -> AgentRecord {
        AgentRecord(
            id: id, labels: ["site": site, "device-class": deviceClass], kernelPath: "avx2", agentVersion: "0.1.0",
            firstSeenAt: Date(), lastSeenAt: Date())
    }

    private lazy var fleet: [AgentRecord] = (1...12).map { agent("agent-\($0)", site: $0 % 2 == 0 ? "north" : "south") }

    func testStageSizesRoundUpSoEveryStageHasAnAgent() {
        XCTAssertEqual([5, 10, 25, 50, 100].map { StageSelection.size(percent: $0, of: 12) }, [1, 2, 3, 6, 12])
        XCTAssertEqual(StageSelection.size(percent: 1, of: 1), 1)
        XCTAssertEqual(StageSelection.size(percent: 100, of: 0), 0)
    }

    func testTargetsMatchEveryLabelAndAnEmptyTargetMatchesAll() {
        let north = agent("a", site: "north")
        XCTAssertTrue(StageSelection.matches(north, target: [:]))
        XCTAssertTrue(StageSelection.matches(north, target: ["site": "north"]))
        XCTAssertFalse(StageSelection.matches(north, target: ["site": "north", "device-class": "jetson"]))
        XCTAssertFalse(StageSelection.matches(north, target: ["hardware": "npu"]))
    }

    func testAMinimumVersionTargetsOnlyAgentsOfThatReleaseOrLater() {
        func running(_ version: String) -> AgentRecord {
            AgentRecord(id: version, labels: ["site": "north"], kernelPath: "avx2", agentVersion: version, firstSeenAt: Date(), lastSeenAt: Date())
        }
        var plan = RolloutPlan(
            rolloutID: "r-1", modelName: "digits", target: ["site": "north"], stages: [100], stage: 0, state: .running, windowMaxAgeMillis: 1000,
            createdBy: "operator:ada")
        let fleet = ["0.1.0", "0.2.0", "0.10.0", "quantfleet-loadgen"].map(running)
        XCTAssertEqual(fleet.filter { StageSelection.matches($0, plan: plan) }.map(\.id), fleet.map(\.id), "no minimum: every version")
        plan.minimumAgentVersion = ReleaseVersion("0.2.0")
        XCTAssertEqual(fleet.filter { StageSelection.matches($0, plan: plan) }.map(\.id), ["0.2.0", "0.10.0"])
        plan.target = ["site": "south"]
        XCTAssertEqual(fleet.filter { StageSelection.matches($0, plan: plan) }, [], "the labels still apply")
    }

    func testOrderIsDeterministicAndIndependentOfInputOrder() {
        let once = StageSelection.order(fleet, rolloutID: "r-1").map(\.id)
        XCTAssertEqual(StageSelection.order(fleet.reversed(), rolloutID: "r-1").map(\.id), once)
        XCTAssertEqual(StageSelection.order(fleet.shuffled(), rolloutID: "r-1").map(\.id), once)
        XCTAssertEqual(Set(once).count, fleet.count)
        XCTAssertNotEqual(StageSelection.order(fleet, rolloutID: "r-2").map(\.id), once, "another rollout, another canary")
    }

    func testEveryPrefixSpreadsOverTheLabelGroups() {
        let ordered = StageSelection.order(fleet, rolloutID: "r-1")
        for size in 2...fleet.count {
            let sites = ordered.prefix(size).map { $0.labels["site"]! }
            let north = sites.filter { $0 == "north" }.count
            XCTAssertLessThanOrEqual(abs(north - (size - north)), 1, "first \(size): \(sites)")
        }
    }

    func testAJoiningAgentDoesNotReshuffleTheOthers() {
        let before = StageSelection.order(fleet, rolloutID: "r-1").map(\.id)
        let after = StageSelection.order(fleet + [agent("agent-13", site: "east")], rolloutID: "r-1").map(\.id)
        XCTAssertEqual(after.filter { $0 != "agent-13" }.filter(before.contains).count, before.count)
        // Within each label group the hash order is unchanged.
        let northBefore = before.filter { Int($0.dropFirst(6))! % 2 == 0 }
        let northAfter = after.filter { $0 != "agent-13" && Int($0.dropFirst(6))! % 2 == 0 }
        XCTAssertEqual(northAfter, northBefore)
    }
}
