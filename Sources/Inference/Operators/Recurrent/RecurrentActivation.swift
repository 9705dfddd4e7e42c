import Foundation

/// One of the activations LSTM, GRU and RNN name in their `activations` attribute, applied in place
/// to a gate's pre-activations after the optional clip.
struct RecurrentActivation: Sendable {
    private let function: UnaryFunction
    private let clip: Float?

    /// One list of `defaults.count` functions (f, g, h order) per direction, from the node's `activations`,
    /// `activation_alpha`, `activation_beta` and `clip`, one list per direction.
    static func parse(_ context: OperatorContext, defaults: [String], directions: Int) throws -> [[RecurrentActivation]] {
        let attributes = context.attributes, node = context.node.name
        let clip = try attributes.float("clip")
        if let clip, clip < 0 { throw InferenceError.invalidAttribute(node: node, attribute: "clip", reason: "must not be negative, got \(clip)") }
        let names = try attributes.strings("activations") ?? Array(repeating: defaults, count: directions).flatMap { $0 }
        guard names.count == defaults.count * directions else {
            throw InferenceError.invalidAttribute(node: node, attribute: "activations",
                                                  reason: "needs \(defaults.count) functions per direction, \(defaults.count * directions) in all, got \(names.count)")
        }
        var alphas = try attributes.floats("activation_alpha") ?? [], betas = try attributes.floats("activation_beta") ?? []
        let activations = try names.map { name in
            try RecurrentActivation(named: name, alphas: &alphas, betas: &betas, clip: clip, node: node)
        }
        return stride(from: 0, to: activations.count, by: defaults.count).map { Array(activations[$0..<($0 + defaults.count)]) }
    }

    /// Takes the next alpha and beta from the lists when the function uses them (the spec consumes
    /// them in the order of the functions), else the defaults of the ONNX operator of that name.
    private init(named name: String, alphas: inout [Float], betas: inout [Float], clip: Float?, node: String) throws {
        func next(_ values: inout [Float], default value: Float) -> Float { values.isEmpty ? value : values.removeFirst() }
        self.clip = clip
        switch name.lowercased() {
        case "relu": function = UnaryFunction(float: { max(0, $0) })
        case "tanh": function = try Self.catalogued("Tanh", node: node)
        case "sigmoid": function = try Self.catalogued("Sigmoid", node: node)
        case "softsign": function = try Self.catalogued("Softsign", node: node)
        case "softplus": function = try Self.catalogued("Softplus", node: node)
        case "leakyrelu": function = try Self.catalogued("LeakyRelu", node: node, alpha: next(&alphas, default: 0.01))
        case "thresholdedrelu": function = try Self.catalogued("ThresholdedRelu", node: node, alpha: next(&alphas, default: 1))
        case "elu": function = try Self.catalogued("Elu", node: node, alpha: next(&alphas, default: 1))
        case "hardsigmoid":
            function = try Self.catalogued("HardSigmoid", node: node, alpha: next(&alphas, default: 0.2), beta: next(&betas, default: 0.5))
        case "affine":
            let alpha = next(&alphas, default: 1), beta = next(&betas, default: 0)
            function = UnaryFunction(float: { alpha * $0 + beta })
        case "scaledtanh":
            let alpha = next(&alphas, default: 1), beta = next(&betas, default: 1)
            function = UnaryFunction(float: { alpha * tanh(beta * $0) })
        default:
            throw InferenceError.invalidAttribute(node: node, attribute: "activations", reason: "names '\(name)', which is not a recurrent activation")
        }
    }

    /// The same function without the clip: onnxruntime clips the gates' inputs, not the cell state
    /// LSTM's h squashes.
    var unclipped: RecurrentActivation {
        RecurrentActivation(function: function, clip: nil)
    }

    private init(function: UnaryFunction, clip: Float?) {
        self.function = function
        self.clip = clip
    }

    private static func catalogued(_ opType: String, node: String, alpha: Float? = nil, beta: Float? = nil) throws -> UnaryFunction {
        var values: [String: AttributeValue] = [:]
        values["alpha"] = alpha.map(AttributeValue.float)
        values["beta"] = beta.map(AttributeValue.float)
        return try UnaryFunction.catalogue[opType]!(NodeAttributes(node: node, values: values))
    }

    /// Clips then activates `count` values at `values`.
    func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        if let clip {
            for index in 0..<count { values[index] = min(max(values[index], -clip), clip) }
        }
        if let vector = function.vector {
            vector(values, values, count)
        } else if let float = function.float {
            for index in 0..<count { values[index] = float(values[index]) }
        }
    }
}
