import Agent
import Coordinator
import Foundation
import ShadowEval
import XCTest

/// Every YAML file QuantFleet reads goes through the one strict parser: the shipped files load, and
/// a daemon refuses to start on a misspelt key in its configuration or its policy, naming the line,
/// where a lenient decoder would have let the key silently keep its default.
final class StrictConfigurationTests: XCTestCase {
    private let config = SystemTestSupport.packageRoot.appendingPathComponent("Config")

    func testTheShippedFilesLoad() throws {
        _ = try CoordinatorConfiguration.load(from: config.appendingPathComponent("coordinator.yaml").path)
        _ = try AgentConfiguration.load(from: config.appendingPathComponent("agent.yaml").path)
        _ = try Policy(yaml: String(contentsOf: config.appendingPathComponent("policy.yaml"), encoding: .utf8))
    }

    func testTheCoordinatorRefusesAMisspeltKeyInItsConfiguration() throws {
        let (status, output, line) = try start("quantfleet-coordinator", misspelling: "heartbeat-interval-ms", in: "coordinator.yaml")
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("coordinator.yaml: line \(line): heartbeat-interval-mss is not a known key; did you mean heartbeat-interval-ms?"), output)
    }

    func testTheCoordinatorRefusesAMisspeltKeyInItsPolicy() throws {
        let (status, output, line) = try start("quantfleet-coordinator", misspelling: "subtract-noise-floor", in: "policy.yaml")
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("policy.yaml: line \(line): subtract-noise-floors is not a known key; did you mean subtract-noise-floor?"), output)
    }

    func testTheAgentRefusesAMisspeltKeyInItsConfiguration() throws {
        let (status, output, line) = try start("quantfleet-agent", misspelling: "shadow-queue-capacity", in: "agent.yaml")
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("agent.yaml: line \(line): shadow-queue-capacitys is not a known key; did you mean shadow-queue-capacity?"), output)
    }

    /// Copies Config/ into a scratch folder with `key` misspelt (an "s" appended) in `file`, and runs
    /// the daemon on its configuration there: its exit status, its output and the misspelt line.
    private func start(_ daemon: String, misspelling key: String, in file: String) throws -> (Int32, String, Int) {
        let scratch = try SystemTestSupport.scratchDirectory("strict-config").appendingPathComponent("Config")
        try FileManager.default.copyItem(at: config, to: scratch)
        let target = scratch.appendingPathComponent(file)
        var lines = try String(contentsOf: target, encoding: .utf8).components(separatedBy: "\n")
        let index = try XCTUnwrap(lines.firstIndex { $0.hasPrefix(key + ":") }, "\(file) has no \(key)")
        lines[index] = key + "s" + lines[index].dropFirst(key.count)
        try lines.joined(separator: "\n").write(to: target, atomically: true, encoding: .utf8)
        let configuration = scratch.appendingPathComponent(daemon == "quantfleet-agent" ? "agent.yaml" : "coordinator.yaml")
        let (status, output) = try SystemTestSupport.run(
            SystemTestSupport.executables.appendingPathComponent(daemon), ["--config", configuration.path])
        return (status, output, index + 1)
    }
}

/// `coordinator:` (one) or `coordinators:` (a list) in agent.yaml, never both, never none.
final class AgentCoordinatorsConfigurationTests: XCTestCase {
    private func load(replacingTheCoordinatorWith replacement: String) throws -> AgentConfiguration {
        let shipped = try String(
            contentsOf: SystemTestSupport.packageRoot.appendingPathComponent("Config/agent.yaml"), encoding: .utf8)
        let block = try XCTUnwrap(shipped.range(of: "coordinator:\n  host: 127.0.0.1\n  port: 7443\n"))
        let file = try SystemTestSupport.scratchDirectory("agent-coordinators").appendingPathComponent("agent.yaml")
        try shipped.replacingCharacters(in: block, with: replacement).write(to: file, atomically: true, encoding: .utf8)
        return try AgentConfiguration.load(from: file.path)
    }

    func testAListOfCoordinatorsLoadsInItsOrder() throws {
        let configuration = try load(replacingTheCoordinatorWith: """
            coordinators:
              - host: coordinator-1.fleet
                port: 7443
              - host: coordinator-2.fleet
                port: 7444

            """)
        XCTAssertEqual(configuration.coordinators.map(\.description), ["coordinator-1.fleet:7443", "coordinator-2.fleet:7444"])
    }

    func testBothKeysOrAnEmptyListAreRefused() {
        XCTAssertThrowsError(try load(replacingTheCoordinatorWith: """
            coordinator:
              host: 127.0.0.1
              port: 7443
            coordinators:
              - host: 127.0.0.1
                port: 7444

            """)) { XCTAssertTrue("\($0)".contains("not both"), "\($0)") }
        XCTAssertThrowsError(try load(replacingTheCoordinatorWith: "coordinators: []\n")) {
            XCTAssertTrue("\($0)".contains("must list at least one coordinator"), "\($0)")
        }
    }

    func testTheModelMemoryBudgetIsOptionalAndPositive() throws {
        let coordinator = "coordinator:\n  host: 127.0.0.1\n  port: 7443\n"
        XCTAssertNil(try load(replacingTheCoordinatorWith: coordinator).modelMemoryBudgetBytes, "no budget unless given")
        XCTAssertEqual(
            try load(replacingTheCoordinatorWith: coordinator + "model-memory-budget-bytes: 536870912\n").modelMemoryBudgetBytes, 536_870_912)
        XCTAssertThrowsError(try load(replacingTheCoordinatorWith: coordinator + "model-memory-budget-bytes: 0\n")) {
            XCTAssertTrue("\($0)".contains("must be at least 1 byte, got 0"), "\($0)")
        }
    }
}

/// A PostgreSQL ledger named in coordinator.yaml is refused at start-up, not taken for a file name.
final class CoordinatorPostgresLedgerConfigurationTests: XCTestCase {
    /// `ledger: postgres://...` is a location, not a file relative to the configuration; a malformed
    /// one is refused when the file is read, naming what is wrong.
    func testAPostgreSQLLedgerIsTakenAsAURIAndAMalformedOneIsRefused() throws {
        let shipped = try String(
            contentsOf: SystemTestSupport.packageRoot.appendingPathComponent("Config/coordinator.yaml"), encoding: .utf8)
        let line = try XCTUnwrap(shipped.split(separator: "\n").first { $0.hasPrefix("ledger:") })
        let file = try SystemTestSupport.scratchDirectory("coordinator-postgres").appendingPathComponent("coordinator.yaml")
        try shipped.replacingOccurrences(of: String(line), with: "ledger: postgres://fleet@db.example/ledger")
            .write(to: file, atomically: true, encoding: .utf8)
        let configuration = try CoordinatorConfiguration.load(from: file.path)
        XCTAssertEqual(configuration.ledger, "postgres://fleet@db.example/ledger")
        guard case .postgres(let location) = try configuration.ledgerLocation else { return XCTFail("not a PostgreSQL ledger") }
        XCTAssertEqual(location.database, "ledger")

        try shipped.replacingOccurrences(of: String(line), with: "ledger: postgres://fleet@db.example/ledger?sslmode=sometimes")
            .write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CoordinatorConfiguration.load(from: file.path)) { error in
            XCTAssertTrue("\(error)".contains("sslmode"), "\(error)")
        }
    }
}
