import Foundation

/// Quantizes, measures the drop on validation rows with our engine, and while the drop exceeds the
/// goal returns layers to float, the most harmful first (ranked by the drop each causes when it
/// alone is quantized), as Intel Neural Compressor's and NNCF's accuracy-aware tuning do.
public enum AccuracyAwareQuantizer {
    /// The recipe that met the goal, written next to the model as `<model>.recipe.json`.
    public struct Recipe: Codable, Sendable, Equatable {
        public let scheme: String
        public let method: String
        public let metric: AccuracyGoal.Metric
        public let maxDrop: Double
        public let drop: Double
        /// Weighted layers returned to float to meet the goal, most harmful first.
        public let floatLayers: [String]
        /// Each quantizable layer's drop when it alone is quantized (only computed when needed).
        public let sensitivity: [String: Double]
    }

    public static func quantize(
        modelAt input: URL, to output: URL, options: QuantizationOptions, goal: AccuracyGoal,
        progress: @escaping @Sendable (CalibrationProgress) -> Void = { _ in }
    ) throws -> (report: QuantizationReport, recipe: Recipe) {
        guard goal.maxDrop >= 0 else { throw QuantizationError.invalidOption("--max-drop must not be negative, got \(goal.maxDrop)") }
        let reference = try ModelValidator.validate(modelAt: input, dataAt: goal.validation)
        let drop = { (options: QuantizationOptions) throws -> (QuantizationReport, Double) in
            let report = try ModelQuantizer.quantize(modelAt: input, to: output, options: options, progress: progress)
            let candidate = try ModelValidator.validate(modelAt: output, dataAt: goal.validation, outputName: reference.output)
            return (report, try goal.drop(reference: reference, candidate: candidate))
        }
        let recipe = { (options: QuantizationOptions, drop: Double, floatLayers: [String], sensitivity: [String: Double]) in
            Recipe(scheme: options.scheme.rawValue, method: options.method.rawValue, metric: goal.metric, maxDrop: goal.maxDrop,
                   drop: drop, floatLayers: floatLayers, sensitivity: sensitivity)
        }

        var (report, measured) = try drop(options)
        if measured <= goal.maxDrop {
            return try (report, written(recipe(options, measured, [], [:]), next: output))
        }
        // Sensitivity: the drop with each layer alone quantized.
        let layers = report.quantizedNodes
        var sensitivity: [String: Double] = [:]
        for layer in layers {
            var alone = options
            alone.excludedNodes.formUnion(layers.filter { $0 != layer })
            sensitivity[layer] = try drop(alone).1
        }
        var floatLayers: [String] = []
        for layer in layers.sorted(by: { (sensitivity[$0]!, $1) > (sensitivity[$1]!, $0) }) {
            floatLayers.append(layer)
            var relaxed = options
            relaxed.excludedNodes.formUnion(floatLayers)
            (report, measured) = try drop(relaxed)
            if measured <= goal.maxDrop {
                return try (report, written(recipe(relaxed, measured, floatLayers, sensitivity), next: output))
            }
        }
        try? FileManager.default.removeItem(at: output)
        throw QuantizationError.goalUnreachable(
            "no recipe meets --max-drop \(goal.maxDrop) on \(goal.metric.rawValue): even with every layer in float the drop is \(measured); try another --method or a larger --max-drop")
    }

    private static func written(_ recipe: Recipe, next model: URL) throws -> Recipe {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let url = model.appendingPathExtension("recipe.json")
        do {
            try encoder.encode(recipe).write(to: url, options: .atomic)
        } catch {
            throw QuantizationError.unwritableOutput(path: url.path, reason: error.localizedDescription)
        }
        return recipe
    }
}
