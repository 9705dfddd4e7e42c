import ArgumentParser
import Foundation
import Operations
import Quantization

extension QuantizationScheme: ExpressibleByArgument {}
extension CalibrationMethod: ExpressibleByArgument {}
extension ActivationType: ExpressibleByArgument {}
extension OpsBetweenQuantizedNodes: ExpressibleByArgument {}
extension WeightRange: ExpressibleByArgument {}
extension AccuracyGoal.Metric: ExpressibleByArgument {}

/// `quantfleet quantize MODEL -o OUT --scheme int8-dynamic|int8-static|int4-weight`
public struct QuantizeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize an FP32 or FP16 ONNX model into a standard ONNX file that onnxruntime also runs.",
        discussion: """
            int8-static needs --calibration: an .npz with one array per model input (rows first). \
            MatMul/Gemm/Conv are quantized; input scaling, normalisation and a final head whose output \
            reaches the graph output without a nonlinearity stay in float.
            """)

    @Argument(help: "The ONNX model to quantize.")
    var model: String

    @Option(name: [.short, .customLong("output")], help: "Where to write the quantized model.")
    var output: String

    @Option(help: "The quantization scheme: \(QuantizationScheme.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scheme: QuantizationScheme

    @Option(help: "Calibration rows (.npz) for int8-static.")
    var calibration: String?

    @Option(help: "How calibration picks activation ranges: \(CalibrationMethod.allCases.map(\.rawValue).joined(separator: ", ")).")
    var method: CalibrationMethod = .minmax

    @Flag(inversion: .prefixedNo, help: "One weight scale per output channel (int8 schemes).")
    var perChannel = true

    @Option(help: "int8-static activations: uint8 (asymmetric, zero point) or int8 (symmetric, zero point 0).")
    var activations: ActivationType = .uint8

    @Option(help: """
        int8-static: which ops between quantized nodes carry quantized tensors too. exact: those that add no rounding \
        (max pooling, zero padding, nearest resizing, shape ops; ReLU and Clip become the next QuantizeLinear's clamp). \
        all: also adds, multiplies, concatenations, average pooling, sigmoids, as onnxruntime's quantizer does, so \
        onnxruntime runs the file in integer kernels throughout, at a rounding each. none: only the quantized nodes' inputs.
        """)
    var betweenOps: OpsBetweenQuantizedNodes = .exact

    @Option(help: ArgumentHelp(
        "int8 weight levels: pair-safe ([-127, 127], adjacent pairs along the reduction within 128, so AVX2 kernels without VNNI cannot saturate), full ([-127, 127]) or reduced ([-63, 63]).",
        valueName: "range"))
    var weightRange: WeightRange = .pairSafe

    @Option(name: .customLong("exclude-op"), help: "Keep every node of this operator type in float (repeatable).")
    var excludedOpTypes: [String] = []

    @Option(name: .customLong("exclude-node"), help: "Keep the node of this name in float (repeatable).")
    var excludedNodes: [String] = []

    @Option(help: "Weights per int4 block for int4-weight: 32, 64 or 128.")
    var blockSize = 32

    @Flag(help: "Print per-layer weight ranges, outlier channels and SQNR (output SQNR on the calibration rows for int8-static).")
    var report = false

    @Option(help: "Accuracy-aware mode: the largest drop allowed (a fraction, e.g. 0.01); layers return to float, most harmful first, until it holds.")
    var maxDrop: Double?

    @Option(help: "Rows (.npz) the accuracy-aware mode measures the drop on.")
    var validation: String?

    @Option(help: "The accuracy-aware mode's measure: top1, r2 or cosine.")
    var metric: AccuracyGoal.Metric = .top1

    public init() {}

    public func validate() throws {
        if (maxDrop == nil) != (validation == nil) {
            throw ValidationError("--max-drop and --validation go together: the drop goal and the rows to measure it on")
        }
    }

    public func run() async throws {
        let options = QuantizationOptions(
            scheme: scheme, calibration: calibration.map { URL(fileURLWithPath: $0) }, method: method,
            perChannel: perChannel, excludedOpTypes: Set(excludedOpTypes), excludedNodes: Set(excludedNodes),
            blockSize: blockSize, measureLayerOutputs: report, weightRange: weightRange, activations: activations,
            between: betweenOps)
        let input = URL(fileURLWithPath: model), destination = URL(fileURLWithPath: output)
        let report: QuantizationReport
        if let maxDrop, let validation {
            let goal = AccuracyGoal(metric: metric, maxDrop: maxDrop, validation: URL(fileURLWithPath: validation))
            let result = try AccuracyAwareQuantizer.quantize(modelAt: input, to: destination, options: options, goal: goal)
            report = result.report
            print("goal:      \(metric.rawValue) drop \(String(format: "%.4f", result.recipe.drop)) <= \(maxDrop)")
            print("returned:  \(result.recipe.floatLayers.isEmpty ? "no layers" : result.recipe.floatLayers.joined(separator: ", ")) to float")
            print("recipe:    \(destination.appendingPathExtension("recipe.json").path)")
        } else {
            report = try ModelQuantizer.quantize(modelAt: input, to: destination, options: options, progress: CalibrationProgressLine.show)
        }
        let quantized = report.quantizedNodes.isEmpty ? "none" : report.quantizedNodes.joined(separator: ", ")
        print("scheme:    \(report.scheme.rawValue)\(report.widenedFromFloat16 ? " (FP16 input widened to FP32 first)" : "")")
        if let rows = report.calibrationRows {
            print("calibrated: \(rows) rows, method \(method.rawValue)")
        }
        print("quantized: \(report.quantizedNodes.count) node(s): \(quantized)")
        if !report.quantizedBetween.isEmpty {
            let byType = Dictionary(grouping: report.quantizedBetween, by: \.opType).map { "\($0.key) x\($0.value.count)" }.sorted()
            print("between:   \(report.quantizedBetween.count) op(s) carry quantized tensors too: \(byType.joined(separator: ", "))")
        }
        for skipped in report.skippedNodes {
            print("in float:  \(skipped.name) (\(skipped.opType)): \(skipped.reason)")
        }
        if self.report {
            printLayers(report.layers)
        }
        let ratio = report.bytesAfter > 0 ? Double(report.bytesBefore) / Double(report.bytesAfter) : 0
        print("size:      \(report.bytesBefore) -> \(report.bytesAfter) bytes (\(String(format: "%.2f", ratio))x smaller)")
        print("written:   \(output)")
    }
}

extension QuantizeCommand {
    private func printLayers(_ layers: [LayerReport]) {
        let decibels = { (value: Double?) in value.map { $0.isFinite ? String(format: "%.1f dB", $0) : "exact" } ?? "-" }
        let rows = layers.map { layer in
            [layer.node, layer.opType,
             String(format: "[%.3g, %.3g]", layer.weightRange.lowerBound, layer.weightRange.upperBound),
             String(layer.outputChannels),
             layer.outlierChannels.isEmpty ? "0" : "\(layer.outlierChannels.count): \(layer.outlierChannels.prefix(5).map(String.init).joined(separator: ","))",
             decibels(layer.weightSQNR), decibels(layer.outputSQNR)]
        }
        print(TextTable.render(
            columns: ["layer", "op", "weight range", "channels", "outlier channels", "weight SQNR", "output SQNR"], rows: rows))
    }
}

/// The calibration progress line on standard error, ended when the last pass completes.
enum CalibrationProgressLine {
    @Sendable static func show(_ progress: CalibrationProgress) {
        let percent = progress.rows > 0 ? progress.rowsDone * 100 / progress.rows : 100
        let width = 30, filled = width * percent / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        var line = "\rcalibrating, pass \(progress.pass)/\(progress.passes) [\(bar)] \(progress.rowsDone)/\(progress.rows) rows"
        if progress.rowsDone == progress.rows, progress.pass == progress.passes { line += "\n" }
        FileHandle.standardError.write(Data(line.utf8))
    }
}
