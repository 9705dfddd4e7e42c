import Foundation
import Inference

/// One model of the zoo (Tools/make-zoo-fixtures.py): its file, where it came from, what it does,
/// which quantization schemes apply to it, and its inputs and onnxruntime's outputs, row by row.
public struct ZooModel: Sendable {
    public let name: String
    /// classification, ctc or detection.
    public let task: String
    public let source: String
    /// The quantizer's schemes that apply ("int8-static", "int8-dynamic"); none for trees or a file
    /// that is already quantized.
    public let schemes: [String]
    /// False when the file fixes its batch dimension at 1.
    public let runsAtBatchEight: Bool
    /// How many test rows (batch-1 requests) there are.
    public let rows: Int
    /// True when only the argmax along the last axis can match onnxruntime's: a file already
    /// quantized whose integer products onnxruntime rounds differently on this CPU.
    public let comparesArgmaxOnly: Bool
    public let outputNames: [String]
    public let folder: URL

    public var model: URL { folder.appendingPathComponent("model.onnx") }
    public var calibration: URL { folder.appendingPathComponent("calibration.npz") }

    init(entry: ZooEntry, folder: URL) {
        (name, task, source, schemes) = (entry.name, entry.task, entry.source, entry.schemes)
        (runsAtBatchEight, rows, outputNames, self.folder) = (entry.batch8, entry.rows, entry.outputs, folder)
        comparesArgmaxOnly = entry.compare == "argmax"
    }

    /// Test row `row`'s feeds, each with batch 1.
    public func feeds(row: Int) throws -> [String: Tensor] {
        try NPZ.read(contentsOf: folder.appendingPathComponent("inputs.npz")).mapValues { $0.rows(row..<(row + 1)) }
    }

    /// onnxruntime's outputs for test row `row`.
    public func expectedOutputs(row: Int) throws -> [String: Tensor] {
        try NPZ.read(contentsOf: folder.appendingPathComponent("expected.npz")).mapValues { all in
            let perRow = all.shape[0] / rows
            return all.rows((row * perRow)..<((row + 1) * perRow))
        }
    }
}

struct ZooIndex: Decodable {
    let format: Int
    let models: [ZooEntry]
}

struct ZooEntry: Decodable {
    let name, task, source, compare: String
    let schemes: [String]
    let batch8: Bool
    let rows: Int
    let outputs: [String]
}
