import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Inference
import OpenInferenceGRPC
import Operations
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real agent's Open Inference Protocol servers (REST and gRPC): metadata, an answer, and bad requests refused
/// with the protocol's `{"error": "..."}` body naming what is wrong.
final class InferenceServerTests: XCTestCase {
    func testAgentServesMetadataAnswersAndRefusesBadRequestsClearly() async throws {
        let fleet = try await SystemTestSupport.startFleet("oip", certified: ["agent-1"], running: ["agent-1"], for: self)
        let agent = try XCTUnwrap(fleet.agentURLs["agent-1"])
        let model = agent.appendingPathComponent("v2/models/\(SystemTestSupport.modelName)")

        let (metadata, metadataStatus) = try await request("GET", model)
        XCTAssertEqual(metadataStatus, 200)
        let inputs = try XCTUnwrap(metadata["inputs"] as? [[String: Any]])
        XCTAssertEqual(inputs.first?["name"] as? String, "pixels")
        XCTAssertEqual(inputs.first?["shape"] as? [Int], [-1, 784])

        let pixels = [Int](repeating: 0, count: 784)
        let (answer, answerStatus) = try await request("POST", model.appendingPathComponent("infer"), body: [
            "id": "one", "inputs": [["name": "pixels", "shape": [1, 784], "datatype": "UINT8", "data": pixels]],
        ])
        XCTAssertEqual(answerStatus, 200, "\(answer)")
        let outputs = try XCTUnwrap(answer["outputs"] as? [[String: Any]])
        XCTAssertEqual(Set(outputs.compactMap { $0["name"] as? String }), ["label", "probabilities"])
        XCTAssertEqual(answer["id"] as? String, "one")

        let refusals: [(URL, [String: Any]?, Int, String)] = [
            (agent.appendingPathComponent("v2/models/other"), nil, 404, "unknown model 'other'"),
            (model.appendingPathComponent("infer"), ["inputs": [["name": "pixels", "shape": [1, 784], "datatype": "FP32", "data": [1, 2]]]],
             400, "shape [1, 784] needs 784 values, data has 2"),
            (model.appendingPathComponent("infer"), ["inputs": [["name": "image", "shape": [1], "datatype": "FP32", "data": [1]]]],
             400, "unknown input 'image'"),
            (model.appendingPathComponent("infer"), ["inputs": [["name": "pixels", "shape": [1, 10], "datatype": "FP32", "data": Array(repeating: 0, count: 10)]]],
             400, "does not fit the model's [?, 784]"),
        ]
        for (url, body, status, message) in refusals {
            let (reply, replyStatus) = try await request(body == nil ? "GET" : "POST", url, body: body)
            XCTAssertEqual(replyStatus, status, "\(url.path): \(reply)")
            let error = try XCTUnwrap(reply["error"] as? String, "OIP error bodies are {\"error\": \"...\"}: \(reply)")
            XCTAssertTrue(error.contains(message), "\(error) should say \(message)")
        }

        // Binary tensor data whose sizes do not add up, refused by the same route with the same body.
        let header = try JSONSerialization.data(withJSONObject: [
            "inputs": [["name": "pixels", "shape": [1, 784], "datatype": "FP32", "parameters": ["binary_data_size": 3136]]],
        ])
        let malformed: [(headerLength: Int, message: String)] = [
            (header.count, "input 'pixels': binary_data_size 3136 runs past the body, which has 100 bytes left for it"),
            (header.count + 101, "Inference-Header-Content-Length is \(header.count + 101) bytes, past the end of the \(header.count + 100)-byte body"),
        ]
        for (headerLength, message) in malformed {
            let (reply, status) = try await request(
                "POST", model.appendingPathComponent("infer"), bytes: header + Data(count: 100),
                headers: ["Inference-Header-Content-Length": String(headerLength)])
            XCTAssertEqual(status, 400, "\(reply)")
            XCTAssertEqual(reply["error"] as? String, message)
        }
    }

    /// tritonclient[http] from PyPI, unchanged and at its defaults (binary tensor data both ways),
    /// and with JSON; its labelled binary requests reach the shadow comparison as JSON ones do.
    func testTritonClientAtItsDefaultsIsServedBinaryAndJSON() async throws {
        let fleet = try await SystemTestSupport.startFleet("oip-tritonclient", certified: ["agent-1"], running: ["agent-1"], for: self)
        let agent = try XCTUnwrap(fleet.agentURLs["agent-1"])
        let labelled = 20
        try runOracle("tritonclient_oracle.py", at: "\(agent.host!):\(agent.port!)", labelled: labelled)
        try await SystemTestSupport.eventually(timeout: .seconds(30), "the \(labelled) labelled binary requests are in the ledger's windows") {
            try Self.labelledSamples(in: fleet) == labelled
        }
    }

    /// The Open Inference Protocol's gRPC service, driven by tritonclient[grpc] at its defaults: the
    /// same answers, ids and refusals as REST, and labels as a request parameter reach the ledger.
    func testTritonClientOverGRPC() async throws {
        let fleet = try await SystemTestSupport.startFleet("oip-grpc", certified: ["agent-1"], running: [], for: self)
        let grpcPort = try FreePort.allocate()
        try fleet.startAgent("agent-1", grpcPort: grpcPort)
        try await fleet.waitUntilReady(["agent-1"])
        let labelled = 20
        try runOracle("tritonclient_grpc_oracle.py", at: "127.0.0.1:\(grpcPort)", labelled: labelled)

        // The oracle's request "g-1" (eight images, no label) gets its labels later, over gRPC.
        let rows = try XCTUnwrap(NPZ.read(contentsOf: SystemTestSupport.traffic)["label"]).int64s.prefix(8)
        try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: grpcPort), transportSecurity: .plaintext)) { client in
            let labels = Quantfleet_Agent_V1_LabelService.Client(wrapping: client)
            do {
                _ = try await labels.sendLabels(.with { $0.labels = [.with { $0.id = "g-1"; $0.label = [-1] }] })
                XCTFail("a negative class is refused")
            } catch let error as RPCError {
                XCTAssertEqual(error.code, .invalidArgument)
                XCTAssertEqual(error.message, "labels[0]: label of 'g-1' must be a class index >= 0, or a list of them")
            }
            var answer = Quantfleet_Agent_V1_SendLabelsResponse()
            try await SystemTestSupport.eventually(timeout: .seconds(10), "the window of g-1 is sealed and its outcomes await labels") {
                answer = try await labels.sendLabels(.with {
                    $0.labels = [.with { $0.id = "g-1"; $0.label = Array(rows) }, .with { $0.id = "never-answered"; $0.label = [3] }]
                })
                return answer.accepted == 8
            }
            XCTAssertEqual(answer.notAwaited, ["never-answered"])
        }
        try await SystemTestSupport.eventually(timeout: .seconds(30), "the \(labelled) + 8 labels are in the ledger's windows") {
            try Self.labelledSamples(in: fleet) == labelled + 8
        }
    }

    /// Runs a tritonclient oracle (Tools/) against the agent's MLP at `address`, to its last check.
    private func runOracle(_ script: String, at address: String, labelled: Int) throws {
        let oracle = try SystemTestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), [
            "python3", SystemTestSupport.packageRoot.appendingPathComponent("Tools/\(script)").path, address, SystemTestSupport.modelName,
            SystemTestSupport.fixtures.appendingPathComponent("mlp-fp16.onnx").path, SystemTestSupport.traffic.path, "\(labelled)",
        ])
        XCTAssertEqual(oracle.status, 0, oracle.output)
        XCTAssertTrue(oracle.output.contains("ok: BYTES for an FP32 input refused"), "the oracle ran to its last check:\n\(oracle.output)")
    }

    /// The labelled samples in the fleet's ledger's windows.
    private static func labelledSamples(in fleet: LocalFleet) throws -> Int? {
        let ledger = try SystemTestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), [
            "sqlite3", "-readonly", fleet.layout.ledger.path, "SELECT COALESCE(SUM(labelled), 0) FROM windows",
        ])
        return Int(ledger.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A model that takes strings (Tools/make-string-models.py), rolled out through the admin API:
    /// tritonclient sends BYTES as binary tensor data and as JSON, and gets a string output both ways.
    func testTritonClientSendsAndReceivesBytesTensors() async throws {
        let driver = try await RolloutDriver.start(
            "oip-bytes", agents: ["agent-1"], policy: try RolloutDriver.loosePolicy("system-test-oip-bytes"), for: self)
        let models = driver.fleet.layout.models
        let made = try SystemTestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), [
            "python3", SystemTestSupport.packageRoot.appendingPathComponent("Tools/make-string-models.py").path, models.path,
        ])
        XCTAssertEqual(made.status, 0, made.output)
        let registration = ["--task", "regression", "--absolute-tolerance", "0.5"]
        let reference = try driver.pushModel(models.appendingPathComponent("words-reference.onnx"), precision: "fp32", registration: registration)
        let candidate = try driver.pushModel(models.appendingPathComponent("words-candidate.onnx"), precision: "int8", registration: registration)
        _ = try driver.createAndStart(reference: reference, candidate: candidate, stages: [100])
        let agent = try XCTUnwrap(driver.fleet.agentURLs["agent-1"])
        try await SystemTestSupport.eventually(timeout: .seconds(60), "the agent serves the string model") {
            let (metadata, status) = try await request("GET", agent.appendingPathComponent("v2/models/\(SystemTestSupport.modelName)"))
            return status == 200 && (metadata["versions"] as? [String]) == [reference]
        }

        let oracle = try SystemTestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), [
            "python3", SystemTestSupport.packageRoot.appendingPathComponent("Tools/tritonclient_bytes_oracle.py").path,
            "\(agent.host!):\(agent.port!)", SystemTestSupport.modelName,
        ])
        XCTAssertEqual(oracle.status, 0, oracle.output)
        XCTAssertTrue(oracle.output.contains("ok: BYTES input JSON, outputs JSON: the words are mapped"), "the oracle ran to its last check:\n\(oracle.output)")
    }

    private func request(_ method: String, _ url: URL, body: [String: Any]? = nil) async throws -> ([String: Any], Int) {
        guard let body else { return try await request(method, url, bytes: nil, headers: [:]) }
        return try await request(method, url, bytes: try JSONSerialization.data(withJSONObject: body), headers: ["Content-Type": "application/json"])
    }

    private func request(_ method: String, _ url: URL, bytes: Data?, headers: [String: String]) async throws -> ([String: Any], Int) {
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = bytes
        for (name, value) in headers {
            request.setValue(value, forHTTPHeaderField: name)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? ["raw": String(decoding: data, as: UTF8.self)]
        return (object, (response as? HTTPURLResponse)?.statusCode ?? 0)
    }
}
