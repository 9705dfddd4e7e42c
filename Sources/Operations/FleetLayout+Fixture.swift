import Foundation
import Quantization

/// The Fashion-MNIST fixture a local fleet rolls out (the demo's, the chaos campaign's): a fresh
/// state for a re-run, and the INT8 candidate quantized here from the FP32 model.
extension FleetLayout {
    /// A re-run starts a fresh fleet (ledger, caches, spools, logs, models) but keeps the PKI.
    public func resetState() throws {
        for folder in [coordinatorDirectory, root.appendingPathComponent("agents"), logs, models] {
            try? FileManager.default.removeItem(at: folder)
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// Quantizes `fixtures`/mlp-fp32.onnx to INT8 (weights per output channel, activations per tensor
    /// at run time) into the layout's model folder.
    public func quantizeCandidate(fixtures: URL) throws -> (candidate: URL, report: QuantizationReport) {
        let candidate = models.appendingPathComponent("mlp-int8.onnx")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        let report = try ModelQuantizer.quantize(
            modelAt: fixtures.appendingPathComponent("mlp-fp32.onnx"), to: candidate, scheme: .int8Dynamic)
        return (candidate, report)
    }
}
