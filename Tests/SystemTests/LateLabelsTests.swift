import Foundation
import Ledger
import Operations
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Labels that come later, as from reviewers on a factory line: the same 1,000 requests are answered
/// once with their labels in the request and once without, the labels sent to `/v2/labels` ten
/// minutes later by the agent's clock, after the agent restarted. Under `require-labels` nothing is
/// decided before the labels, and both runs reach the same decision on the same labelled evidence.
final class LateLabelsTests: XCTestCase {
    static let requests = 1_000

    func testLabelsTenMinutesLateThroughAnAgentRestartDecideAsLabelsInTheRequest() async throws {
        let inRequest = try await rollOut("labels-in-request", late: false)
        let late = try await rollOut("labels-late", late: true)
        print("labels in the request: \(inRequest); ten minutes late, through a restart: \(late)")
        XCTAssertEqual(inRequest.state, "promoted", "the INT8 MLP ships on its labelled drop")
        XCTAssertEqual(late.state, inRequest.state, "the same decision")
        XCTAssertEqual(late.labelled, inRequest.labelled, "every label counted, once")
        XCTAssertEqual(late.labelled, Self.requests)
        XCTAssertEqual(late.metric, "labelled-accuracy-drop")
    }

    private struct Outcome: CustomStringConvertible {
        var state: String
        var metric: String?
        var labelled: Int
        var description: String { "\(state) on \(metric ?? "-"), \(labelled) labelled samples" }
    }

    private func rollOut(_ name: String, late: Bool) async throws -> Outcome {
        let policy = try RolloutDriver.policy(name, shipBelow: 0.05, stayFP16Above: 0.2, minimumSamples: 300, extra: "require-labels: true")
        let adminPort = try FreePort.allocate()
        let fleet = try await SystemTestSupport.startFleet(name, certified: ["agent-1"], running: [], for: self) { settings in
            settings.opensRollout = false
            settings.adminPort = adminPort
            settings.policy = policy
        }
        // The agent's calendar clock, which a late label's age is measured on, moves by this file.
        let clockOffset = fleet.layout.root.appendingPathComponent("clock-offset")
        try "+0".write(to: clockOffset, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["QUANTFLEET_WALL_CLOCK_OFFSET_FILE"] = clockOffset.path
        let agent = try fleet.startAgent("agent-1", environment: environment)
        let driver = try RolloutDriver(fleet: fleet, adminPort: adminPort)
        try await driver.waitForAgents(1)
        let reference = try driver.pushModel(SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx"), precision: "fp32")
        let candidate = try driver.pushModel(fleet.layout.models.appendingPathComponent("mlp-int8.onnx"), precision: "int8")
        let rollout = try driver.createAndStart(reference: reference, candidate: candidate, stages: [100])
        try await fleet.waitUntilReady(["agent-1"])

        let replay = TrafficReplay(options: .init(
            data: SystemTestSupport.traffic, agents: [agent], model: SystemTestSupport.modelName, concurrency: 1, limit: Self.requests,
            labelsInRequests: !late))
        let answered = try await replay.run { _ in }
        XCTAssertEqual(answered.succeeded, Self.requests, answered.firstError ?? "")
        let ledger = try Ledger.openReadOnly(path: fleet.layout.ledger.path)
        func stored(_ column: String) throws -> Int {
            Int(try ledger.query("SELECT COALESCE(SUM(\(column)), 0) FROM windows").rows[0][0]) ?? 0
        }
        if late {
            try await SystemTestSupport.eventually(timeout: .seconds(30), "every answered request's window is stored") {
                try stored("count") == Self.requests
            }
            // Plenty of samples, no labels: require-labels holds the decision.
            try await Task.sleep(for: .seconds(2))
            let waiting = try await driver.status(rollout)
            XCTAssertEqual(waiting.state, "running", "no decision before the labels")
            XCTAssertEqual(try stored("labelled"), 0)

            // Ten minutes pass on the agent's clock, and the agent restarts (its outcomes are in its spool).
            try "+600".write(to: clockOffset, atomically: true, encoding: .utf8)
            _ = await fleet.agents["agent-1"]!.stop()
            try fleet.startAgent("agent-1")
            try await fleet.waitUntilReady(["agent-1"])
            let sent = try await replay.sendLabels(batchSize: 300)
            XCTAssertEqual(sent, TrafficReplay.LabelsSent(accepted: Self.requests, notAwaited: 0))
            let again = try await replay.sendLabels(batchSize: 300)
            XCTAssertEqual(again, TrafficReplay.LabelsSent(accepted: 0, notAwaited: Self.requests), "a label counts once")
            for (body, expected) in [
                (#"{"labels": [{"id": "a", "label": 1}, {"id": "b"}]}"#, "labels[1].label is missing"),
                (#"{"labels": [{"id": "a", "label": -2}]}"#, "label of 'a' must be a class index >= 0"),
                ("not json", "not a labels body"),
            ] {
                var request = URLRequest(url: agent.appendingPathComponent("v2/labels"))
                request.httpMethod = "POST"
                request.httpBody = Data(body.utf8)
                let (data, response) = try await URLSession.shared.data(for: request)
                XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 400, body)
                XCTAssertTrue(String(decoding: data, as: UTF8.self).contains(expected), "\(body): \(String(decoding: data, as: UTF8.self))")
            }
        }
        try await SystemTestSupport.eventually(timeout: .seconds(60), "the rollout is decided") {
            try await driver.status(rollout).state != "running"
        }
        let decided = try await driver.status(rollout)
        try await SystemTestSupport.eventually(timeout: .seconds(30), "every label is stored") {
            try stored("labelled") == Self.requests
        }
        return Outcome(state: decided.state, metric: decided.decision?.metric, labelled: try stored("labelled"))
    }
}
