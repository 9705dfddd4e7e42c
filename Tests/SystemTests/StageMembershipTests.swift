import FleetProtocol
import Foundation
import Ledger
import Logging
import Operations
import XCTest

/// A stage's evidence is its members' windows only: an agent with a valid certificate that is not in
/// the stage cannot add windows to it by naming its assignment.
final class StageMembershipTests: XCTestCase {
    func testAWindowFromAnAgentOutsideTheStageIsRefusedAndRecorded() async throws {
        let adminPort = try FreePort.allocate()
        let policy = try RolloutDriver.loosePolicy("membership")
        let fleet = try await SystemTestSupport.startFleet(
            "membership", certified: ["agent-1", "agent-2"], running: ["agent-1"], for: self
        ) {
            $0.opensRollout = false
            $0.adminPort = adminPort
            $0.policy = policy
        }
        let driver = try RolloutDriver(fleet: fleet, adminPort: adminPort)
        try await driver.waitForAgents(1)
        let reference = try driver.pushModel(SystemTestSupport.fixtures.appendingPathComponent("mlp-fp16.onnx"), precision: "fp16")
        let candidate = try driver.pushModel(fleet.layout.models.appendingPathComponent("mlp-int8.onnx"), precision: "int8")
        // Half of one known agent: agent-1 alone is in the first stage, and stays its only member
        // when agent-2 connects (half of two).
        let rollout = try driver.createAndStart(reference: reference, candidate: candidate, stages: [50, 100])
        let ledger = try Ledger.openReadOnly(path: fleet.layout.ledger.path)
        let stageZero = try XCTUnwrap(
            ledger.query("SELECT id FROM assignments WHERE rollout_id = '\(rollout)' AND stage = 0").rows.first?.first)

        let pki = fleet.layout.pki
        let outsider = try await FleetClient.connect(
            host: "127.0.0.1", port: fleet.coordinatorPort,
            tls: try FleetTLS.clientContext(TLSFiles(
                certificate: pki.appendingPathComponent("agents/agent-2.pem").path,
                privateKey: pki.appendingPathComponent("agents/agent-2.key").path,
                trustRoots: pki.appendingPathComponent("ca.pem").path)),
            serverHostname: "localhost", logger: Logger(label: "membership-test"))
        let answer = try await outsider.channel.executeThenClose { inbound, outbound -> Envelope? in
            var frames = inbound.makeAsyncIterator()
            try await outbound.write(Envelope(.hello(.with {
                $0.protocolVersions = [FleetFraming.protocolVersion]
                $0.kernelPath = "scalar"
                $0.agentVersion = "test"
            })))
            let welcome = try await frames.next()
            XCTAssertEqual(welcome?.welcome.agentID, "agent-2")
            try await outbound.write(Envelope(.shadowWindow(.with {
                $0.assignmentID = stageZero
                $0.sequence = 0
                $0.startedAtMs = 1_800_000_000_000
                $0.endedAtMs = 1_800_000_001_000
                $0.count = 10
                $0.top1Agreements = 10
                $0.referenceLatencyUsSum = 1_000
                $0.candidateLatencyUsSum = 500
                $0.kernelPath = "scalar"
            })))
            while let frame = try await frames.next() {
                switch frame.payload {
                case .error, .windowAck: return frame
                default: continue
                }
            }
            return nil
        }

        XCTAssertTrue(answer?.error.reason.contains("agent agent-2 is not a member of that stage") == true, "\(String(describing: answer))")
        XCTAssertEqual(
            try ledger.query("SELECT count(*) FROM windows WHERE agent_id = 'agent-2'").rows, [["0"]],
            "nothing counted into the stage's evidence")
        let events = try ledger.query(
            "SELECT actor, stage, reason FROM rollout_events WHERE rollout_id = '\(rollout)' AND action = 'window-refused'").rows
        XCTAssertEqual(events.map { Array($0.prefix(2)) }, [["agent:agent-2", "0"]])
        XCTAssertTrue(events.first?[2].hasPrefix("window 0 for assignment \(stageZero)") == true, "\(events)")
        try fleet.checkAlive()
    }
}
