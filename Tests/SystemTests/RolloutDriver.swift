import FleetProtocol
import Foundation
import Operations
import Quantization
import XCTest

/// Drives staged rollouts as an operator would: the real `quantfleet` CLI with the operator's
/// certificate, the admin API for status, and labelled traffic to whichever agents serve.
struct RolloutDriver {
    let fleet: LocalFleet
    let adminPort: Int
    let admin: AdminClient

    init(fleet: LocalFleet, adminPort: Int) throws {
        self.fleet = fleet
        self.adminPort = adminPort
        let pki = fleet.layout.pki
        admin = try AdminClient(
            coordinator: URL(string: "https://localhost:\(adminPort)")!,
            certificate: pki.appendingPathComponent("operators/operator.pem").path,
            privateKey: pki.appendingPathComponent("operators/operator.key").path,
            trustRoots: pki.appendingPathComponent("ca.pem").path)
    }

    /// A fleet whose rollouts come through the admin API: `agents` running with `labels`, the
    /// coordinator on `policy` with its admin API on (and `configure`d), every agent connected.
    static func start(
        _ name: String, agents: [String], labels: (String) -> [String: String] = { _ in [:] }, policy: URL,
        for test: XCTestCase, configure: (inout FleetLayout.CoordinatorSettings) -> Void = { _ in }
    ) async throws -> RolloutDriver {
        let adminPort = try FreePort.allocate()
        let fleet = try await SystemTestSupport.startFleet(name, certified: agents, running: agents, labels: labels, for: test) { settings in
            settings.opensRollout = false
            settings.adminPort = adminPort
            settings.policy = policy
            configure(&settings)
        }
        let driver = try RolloutDriver(fleet: fleet, adminPort: adminPort)
        try await driver.waitForAgents(agents.count)
        return driver
    }

    /// A policy with looser thresholds than Config/policy.yaml's, so that small stages decide on
    /// small evidence.
    static func loosePolicy(_ name: String, extra: String = "") throws -> URL {
        try policy(name, shipBelow: 0.05, stayFP16Above: 0.2, minimumSamples: 300, extra: extra)
    }

    static func policy(_ name: String, shipBelow: Double, stayFP16Above: Double, minimumSamples: Int, extra: String = "") throws -> URL {
        let policy = try SystemTestSupport.scratchDirectory(name).appendingPathComponent("policy.yaml")
        try """
            version: "\(name).1"
            ship-below: \(shipBelow)
            stay-fp16-above: \(stayFP16Above)
            confidence: 0.95
            minimum-samples: \(minimumSamples)
            minimum-labelled: \(minimumSamples)
            \(extra)
            """.write(to: policy, atomically: true, encoding: .utf8)
        return policy
    }

    /// Runs the CLI against this coordinator's admin API with the certificate `holder` (a path under the PKI).
    func cli(_ arguments: [String], as holder: String = "operators/operator") throws -> (status: Int32, output: String) {
        let pki = fleet.layout.pki
        return try SystemTestSupport.run(
            SystemTestSupport.executables.appendingPathComponent("quantfleet"),
            arguments + [
                "--coordinator", "https://localhost:\(adminPort)", "--cert", pki.appendingPathComponent("\(holder).pem").path,
                "--key", pki.appendingPathComponent("\(holder).key").path, "--ca", pki.appendingPathComponent("ca.pem").path,
            ])
    }

    func waitForAgents(_ count: Int) async throws {
        try await SystemTestSupport.eventually(timeout: .seconds(60), "\(count) agents connected") {
            (try? await admin.get("/v1/agents", as: [AdminAPI.Agent].self).filter(\.connected).count) == count
        }
    }

    /// Registers a model under `name` (the fixture's model name unless given); `registration` adds
    /// e.g. `--task regression`.
    func pushModel(_ file: URL, precision: String, name: String = SystemTestSupport.modelName, registration: [String] = []) throws -> String {
        let pushed = try cli(["model", "push", file.path, "--name", name, "--precision", precision, "--json"] + registration)
        XCTAssertEqual(pushed.status, 0, pushed.output)
        return try Self.decoder.decode(AdminAPI.Model.self, from: Data(pushed.output.utf8)).sha256
    }

    func createAndStart(reference: String, candidate: String, stages: [Int], modelName: String = SystemTestSupport.modelName) throws -> String {
        let created = try cli([
            "rollout", "create", "--model-name", modelName, "--reference", reference, "--candidate", candidate,
            "--stages", stages.map(String.init).joined(separator: ","), "--window-size", "10", "--window-max-age-ms", "300",
            "--json",
        ])
        XCTAssertEqual(created.status, 0, created.output)
        let id = try Self.decoder.decode(AdminAPI.Rollout.self, from: Data(created.output.utf8)).id
        let started = try cli(["rollout", "start", id, "--reason", "system test"])
        XCTAssertEqual(started.status, 0, started.output)
        XCTAssertTrue(started.output.contains("state running"), started.output)
        return id
    }

    /// Makes one of Tools/make-task-kind-fixtures.py's synthetic models (`detector`, `recogniser`) in the
    /// fleet's model folder, with an INT8 copy of its reference: KIND-fp32.onnx, KIND-int8.onnx,
    /// KIND-damaged.onnx and traffic.npz.
    func makeTaskKindFixture(_ kind: String) throws -> URL {
        let directory = fleet.layout.models.appendingPathComponent(kind)
        let made = try SystemTestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), [
            "python3", SystemTestSupport.packageRoot.appendingPathComponent("Tools/make-task-kind-fixtures.py").path, kind,
            directory.path,
        ])
        XCTAssertEqual(made.status, 0, made.output)
        _ = try ModelQuantizer.quantize(
            modelAt: directory.appendingPathComponent("\(kind)-fp32.onnx"),
            to: directory.appendingPathComponent("\(kind)-int8.onnx"), scheme: .int8Dynamic)
        return directory
    }

    /// Rolls `candidate` out to every agent in one stage, with `data` replayed until the rollout
    /// reaches `state` (e.g. promoted, rolled-back); answers its status then.
    func rollOut(
        reference: String, candidate: String, to agents: [String], data: URL, until state: String,
        timeout: Duration = .seconds(90)
    ) async throws -> AdminAPI.Rollout {
        let rollout = try createAndStart(reference: reference, candidate: candidate, stages: [100])
        let traffic = replayUntilStopped(agents, data: data)
        try await SystemTestSupport.eventually(timeout: timeout, "the rollout of \(candidate) is \(state)") {
            try await status(rollout).state == state
        }
        await traffic.stop()
        return try await status(rollout)
    }

    func status(_ rolloutID: String) async throws -> AdminAPI.Rollout {
        try await admin.get("/v1/rollouts/\(rolloutID)", as: AdminAPI.Rollout.self)
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// Traffic (labelled Fashion-MNIST unless `data` says otherwise) to whichever of `agents` serve
    /// `model`, until stopped.
    func replayUntilStopped(
        _ agents: [String], data: URL = SystemTestSupport.traffic, model: String = SystemTestSupport.modelName
    ) -> TrafficRounds {
        TrafficRounds.start(agents: agents.compactMap { fleet.agentURLs[$0] }, data: data, model: model)
    }
}
