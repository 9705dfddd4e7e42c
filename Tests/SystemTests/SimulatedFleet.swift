import Foundation
import LoadGeneration
import Logging
import Operations
import Quantization
import XCTest

/// The real coordinator process on the Fashion-MNIST rollout, laid out for simulated agents: its
/// PKI (whose CA key the load generator issues agent certificates from), the shipped policy with an
/// evaluation cadence (thousands of windows a second would otherwise make a decision row each), and
/// windows of 100 samples. Several coordinators share a PostgreSQL ledger (`coordinators`, with
/// `settings.ledger` set by `configure`); the simulated agents are told all of them.
struct SimulatedFleet {
    let fleet: LocalFleet
    let settings: FleetLayout.CoordinatorSettings
    var layout: FleetLayout { fleet.layout }

    static func start(
        _ name: String, for test: XCTestCase, coordinators: Int = 1,
        configure: (inout FleetLayout.CoordinatorSettings) throws -> Void = { _ in },
        adjusting adjust: (_ index: Int, inout FleetLayout.CoordinatorSettings) -> Void = { _, _ in }
    ) throws -> SimulatedFleet {
        let layout = FleetLayout(root: try SystemTestSupport.scratchDirectory(name))
        try layout.makePKI(script: SystemTestSupport.pkiScript, agents: [])
        let policy = layout.root.appendingPathComponent("policy.yaml")
        let policyText = try String(contentsOf: SystemTestSupport.packageRoot.appendingPathComponent("Config/policy.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "# evaluation:\n#   every-windows: 100\n#   every-ms: 1000", with: "evaluation:\n  every-windows: 100\n  every-ms: 1000")
        XCTAssertTrue(policyText.contains("\nevaluation:\n"), "Config/policy.yaml's commented evaluation section moved")
        try policyText.write(to: policy, atomically: true, encoding: .utf8)
        let candidate = layout.root.appendingPathComponent("mlp-int8.onnx")
        _ = try ModelQuantizer.quantize(
            modelAt: SystemTestSupport.fixtures.appendingPathComponent("mlp-fp32.onnx"), to: candidate, scheme: .int8Dynamic)
        var settings = FleetLayout.CoordinatorSettings(
            port: try FreePort.allocate(), policy: policy, modelName: SystemTestSupport.modelName,
            reference: SystemTestSupport.fixtures.appendingPathComponent("mlp-fp16.onnx"), candidate: candidate)
        settings.windowSize = 100
        // A loaded machine can starve a process of simulated agents for seconds: three 10 s heartbeat
        // intervals keep the coordinator from dropping them as silent, which would set off reconnects.
        settings.heartbeatIntervalMillis = 10_000
        try configure(&settings)
        let fleet = LocalFleet(layout: layout, executables: SystemTestSupport.executables)
        test.addTeardownBlock { await fleet.stop() }
        try fleet.startCoordinators(coordinators, settings, adjusting: adjust)
        return SimulatedFleet(fleet: fleet, settings: settings)
    }

    /// A plan against these coordinators, windows at a 0.5 % labelled drop.
    func plan(agents: Int, windowInterval: Duration, duration: Duration) -> LoadPlan {
        LoadPlan(
            host: "127.0.0.1", ports: fleet.coordinatorPorts, agents: agents, rampPerSecond: 500, windowInterval: windowInterval,
            duration: duration, evidence: SimulatedEvidence(trueDrop: 0.005, evidence: .labelled))
    }

    func generator(_ plan: LoadPlan) throws -> LoadGenerator {
        try LoadGenerator(
            plan: plan,
            ca: .init(certificate: layout.pki.appendingPathComponent("ca.pem").path,
                      privateKey: layout.pki.appendingPathComponent("ca.key").path,
                      cacheDirectory: layout.pki.appendingPathComponent("loadgen")),
            logger: Logger(label: "loadgen") { _ in SwiftLogNoOpLogHandler() })
    }
}
