import Foundation
import Inference

/// Runs a model with our engine over every row of an .npz and records its outputs and metrics.
public enum ModelValidator {
    /// - Parameter outputName: the model output to record; by default the first float output.
    public static func validate(modelAt model: URL, dataAt data: URL, outputName: String? = nil, batchRows: Int = 256) throws -> ValidationResults {
        let session = try InferenceSession(contentsOf: model)
        let candidates = session.outputs.filter { $0.elementType == .float32 || $0.elementType == .float16 }
        guard let output = outputName.map({ name in session.outputs.first { $0.name == name } }) ?? candidates.first else {
            throw QuantizationError.invalidOption(
                outputName.map { "the model has no output '\($0)' (outputs: \(session.outputs.map(\.name).joined(separator: ", ")))" }
                    ?? "the model has no float output to validate")
        }
        let rows = try ModelFeedRows(contentsOf: data, inputs: session.inputs)
        var outputs: [[Float]] = []
        outputs.reserveCapacity(rows.rows)
        for batch in rows.batches(of: batchRows) {
            let tensor = try session.run(rows.feeds(rows: batch))[output.name]!
            let values = tensor.floats, width = values.count / batch.count
            outputs += stride(from: 0, to: values.count, by: max(width, 1)).map { Array(values[$0..<($0 + width)]) }
        }
        let labels = rows.labels.map { $0.floats.map(Double.init) }
        let isClassification = (outputs.first?.count ?? 0) > 1 && (labels?.allSatisfy { $0 == $0.rounded() } ?? true)
        var results = ValidationResults(
            model: model.path, data: data.path, output: output.name, task: isClassification ? .classification : .regression,
            outputs: outputs, labels: labels, metrics: .init())
        if let labels {
            switch results.task {
            case .classification:
                results.metrics.accuracy = Metrics.accuracy(results.predictedClasses, labels)
            case .regression:
                results.metrics.rSquared = Metrics.rSquared(outputs.map { Double($0.first ?? 0) }, labels)
            }
        }
        return results
    }
}

/// The scores validation and comparison report.
enum Metrics {
    static func accuracy(_ predictions: [Int], _ labels: [Double]) -> Double {
        guard !labels.isEmpty else { return 0 }
        return Double(zip(predictions, labels).filter { Double($0) == $1 }.count) / Double(labels.count)
    }

    static func rSquared(_ predictions: [Double], _ targets: [Double]) -> Double {
        let mean = targets.reduce(0, +) / Double(max(targets.count, 1))
        let residual = zip(predictions, targets).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let total = targets.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return total > 0 ? 1 - residual / total : 0
    }
}
