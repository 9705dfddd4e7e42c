import Foundation
import Operations
import Quantization
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Where the repository and the built executables are, and a scratch folder per test.
enum SystemTestSupport {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `swift test` builds the executables the tests depend on next to the test bundle.
    static var executables: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        if FileManager.default.isExecutableFile(atPath: besideTests.appendingPathComponent("quantfleet").path) {
            return besideTests
        }
        return packageRoot.appendingPathComponent(".build/debug")
    }

    static var fixtures: URL { packageRoot.appendingPathComponent("Fixtures/fashion-mnist") }

    static let modelName = "fashion-mnist-mlp"
    static var pkiScript: URL { packageRoot.appendingPathComponent("Deploy/pki/make-pki.sh") }
    static var traffic: URL { fixtures.appendingPathComponent("traffic.npz") }

    /// A real fleet on the Fashion-MNIST fixture: PKI for `certified` agents, the INT8 candidate
    /// quantized here, the coordinator and the `running` agents started (with `labels`) and, when
    /// the coordinator opens a rollout itself, ready. Small, quick windows so that tests see many of
    /// them; `configure` adjusts the coordinator. Every process is stopped when the test ends.
    static func startFleet(
        _ name: String, certified: [String], running: [String], labels: (String) -> [String: String] = { _ in [:] },
        for test: XCTestCase, configure: (inout FleetLayout.CoordinatorSettings) -> Void = { _ in }
    ) async throws -> LocalFleet {
        let layout = FleetLayout(root: try scratchDirectory(name))
        try layout.makePKI(script: pkiScript, agents: certified)
        let candidate = layout.models.appendingPathComponent("mlp-int8.onnx")
        try FileManager.default.createDirectory(at: layout.models, withIntermediateDirectories: true)
        _ = try ModelQuantizer.quantize(
            modelAt: fixtures.appendingPathComponent("mlp-fp32.onnx"), to: candidate, scheme: .int8Dynamic)
        var settings = FleetLayout.CoordinatorSettings(
            port: try FreePort.allocate(), policy: packageRoot.appendingPathComponent("Config/policy.yaml"),
            modelName: modelName, reference: fixtures.appendingPathComponent("mlp-fp16.onnx"), candidate: candidate)
        settings.windowSize = 10
        settings.windowMaxAgeMillis = 300
        configure(&settings)
        let fleet = LocalFleet(layout: layout, executables: executables)
        test.addTeardownBlock { await fleet.stop() }
        try fleet.startCoordinator(settings)
        for agent in running { try fleet.startAgent(agent, labels: labels(agent)) }
        if settings.opensRollout { try await fleet.waitUntilReady(running) }
        return fleet
    }

    /// A fleet for `agents` laid out in `layout` (PKI, the INT8 candidate) and the configured
    /// rollout's settings under a policy with bands wide enough that the INT8 MLP ships on
    /// `minimumSamples` labelled samples: seconds of traffic.
    static func quickRollout(in layout: FleetLayout, agents: [String], minimumSamples: Int) throws -> FleetLayout.CoordinatorSettings {
        try layout.makePKI(script: pkiScript, agents: agents)
        let (candidate, _) = try layout.quantizeCandidate(fixtures: fixtures)
        let policy = layout.root.appendingPathComponent("policy.yaml")
        try """
            version: "quick.1"
            ship-below: 0.05
            stay-fp16-above: 0.2
            confidence: 0.95
            minimum-samples: \(minimumSamples)
            minimum-labelled: \(minimumSamples)

            """.write(to: policy, atomically: true, encoding: .utf8)
        var settings = FleetLayout.CoordinatorSettings(
            port: try FreePort.allocate(), policy: policy, modelName: modelName,
            reference: fixtures.appendingPathComponent("mlp-fp16.onnx"), candidate: candidate)
        settings.windowSize = 20
        settings.windowMaxAgeMillis = 300
        return settings
    }

    static func scratchDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("quantfleet-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a command to completion and returns its exit status and combined output.
    static func run(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    static func scrape(_ url: URL) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: url)
        return String(decoding: data, as: UTF8.self)
    }

    /// The value of a sample in the coordinator's Prometheus text, named with its labels if it has
    /// any (`name{label="value"}`).
    static func metric(_ name: String, port: Int) async throws -> Double {
        let text = try await scrape(URL(string: "http://127.0.0.1:\(port)/metrics")!)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix(name + " ") }, "no \(name) in:\n\(text)")
        return try XCTUnwrap(Double(line.split(separator: " ")[1]))
    }

    /// Polls `condition` until it holds or `timeout` passes.
    static func eventually(
        timeout: Duration, _ what: String, file: StaticString = #filePath, line: UInt = #line,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTFail("timed out after \(timeout): \(what)", file: file, line: line)
        throw CancellationError()
    }
}
