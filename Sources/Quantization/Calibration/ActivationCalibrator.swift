import Foundation
import Inference

/// Runs our engine on calibration rows and chooses a quantization range for each requested tensor.
///
/// The first pass records each tensor's smallest and largest value; the histogram methods then
/// make a second pass binning values over that range.
struct ActivationCalibrator {
    let method: CalibrationMethod
    let batchRows: Int
    let progress: @Sendable (CalibrationProgress) -> Void

    /// The range for each of `tensors` (float values inside `model`), and the rows measured.
    func ranges(of tensors: [String], in model: Onnx_ModelProto, rows data: URL) throws -> (ranges: [String: ClosedRange<Float>], rows: Int) {
        let instrumented = try InstrumentedModel(model, observing: tensors)
        let rows = try ModelFeedRows(contentsOf: data, inputs: instrumented.session.inputs)
        let passes = method == .minmax ? 1 : 2

        var extremes: [String: ClosedRange<Float>] = [:]
        try forEachBatch(instrumented, rows, pass: 1, of: passes) { name, values in
            guard let smallest = values.min(), let largest = values.max() else { return }
            extremes[name] = extremes[name].map { min($0.lowerBound, smallest)...max($0.upperBound, largest) } ?? smallest...largest
        }
        for name in tensors where extremes[name] == nil {
            throw QuantizationError.calibrationFailed("tensor '\(name)' held no values on the calibration rows")
        }
        guard method != .minmax else { return (extremes, rows.rows) }

        var histograms = extremes.mapValues { ValueHistogram(lower: $0.lowerBound, upper: $0.upperBound) }
        try forEachBatch(instrumented, rows, pass: 2, of: passes) { name, values in
            histograms[name]!.add(values)
        }
        return (histograms.mapValues { RangeSelection.range(method, histogram: $0) }, rows.rows)
    }

    private func forEachBatch(_ model: InstrumentedModel, _ rows: ModelFeedRows, pass: Int, of passes: Int,
                              observe: (String, [Float]) -> Void) throws {
        progress(CalibrationProgress(pass: pass, passes: passes, rowsDone: 0, rows: rows.rows))
        for batch in rows.batches(of: batchRows) {
            for (name, values) in try model.values(of: rows, batch: batch) {
                observe(name, values)
            }
            progress(CalibrationProgress(pass: pass, passes: passes, rowsDone: batch.upperBound, rows: rows.rows))
        }
    }
}
