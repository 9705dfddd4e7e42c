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

    /// What calibration measured: the range chosen for each requested tensor, the standard
    /// deviation of its values, and the rows measured.
    struct Measurement {
        var ranges: [String: ClosedRange<Float>]
        var standardDeviations: [String: Float]
        var rows: Int
    }

    /// Measures each of `tensors` (float values inside `model`) on the calibration rows.
    func measure(_ tensors: [String], in model: Onnx_ModelProto, rows data: URL) throws -> Measurement {
        let instrumented = try InstrumentedModel(model, observing: tensors)
        let rows = try ModelFeedRows(contentsOf: data, inputs: instrumented.session.inputs)
        let passes = method == .minmax ? 1 : 2

        var spreads: [String: ActivationSpread] = [:]
        try forEachBatch(instrumented, rows, pass: 1, of: passes) { name, values in
            spreads[name, default: ActivationSpread()].add(values)
        }
        var extremes: [String: ClosedRange<Float>] = [:]
        for name in tensors {
            guard let range = spreads[name]?.range else {
                throw QuantizationError.calibrationFailed("tensor '\(name)' held no values on the calibration rows")
            }
            extremes[name] = range
        }
        let deviations = spreads.mapValues(\.standardDeviation)
        guard method != .minmax else { return Measurement(ranges: extremes, standardDeviations: deviations, rows: rows.rows) }

        var histograms = extremes.mapValues { ValueHistogram(lower: $0.lowerBound, upper: $0.upperBound) }
        try forEachBatch(instrumented, rows, pass: 2, of: passes) { name, values in
            histograms[name]!.add(values)
        }
        return Measurement(ranges: histograms.mapValues { RangeSelection.range(method, histogram: $0) },
                           standardDeviations: deviations, rows: rows.rows)
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
