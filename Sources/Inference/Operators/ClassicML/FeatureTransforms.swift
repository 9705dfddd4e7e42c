/// ai.onnx.ml Scaler: Y = (X - offset) * scale, per feature (the last axis) or one value for all; float output.
struct Scaler: SingleOutputOperator, ShapePreserving {
    let offset: [Float]
    let scale: [Float]

    init(_ context: OperatorContext) throws {
        offset = try context.attributes.floats("offset") ?? [0]
        scale = try context.attributes.floats("scale") ?? [1]
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let features = x.shape.last ?? 1
        for (name, values) in [("offset", offset), ("scale", scale)] where values.count != 1 && values.count != features {
            throw InferenceError.invalidOperand("\(name) holds \(values.count) values for \(features) features")
        }
        let values = try FeatureRows.numeric(x)
        return Tensor(shape: x.shape, floats: values.indices.map { index in
            let feature = index % features
            return (values[index] - offset[offset.count == 1 ? 0 : feature]) * scale[scale.count == 1 ? 0 : feature]
        })
    }
}

/// ai.onnx.ml Normalizer: each row divided by its MAX, L1 or L2 norm (a zero norm leaves the row as is).
struct Normalizer: SingleOutputOperator, ShapePreserving {
    enum Norm: String, CaseIterable { case max = "MAX", l1 = "L1", l2 = "L2" }

    let norm: Norm

    init(_ context: OperatorContext) throws {
        norm = try context.attributes.choice("norm", default: .max)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let rows = try FeatureRows(x)
        var values = rows.values
        for start in stride(from: 0, to: values.count, by: max(rows.features, 1)) {
            let row = start..<(start + rows.features)
            let divisor: Float = switch norm {
            case .max: values[row].reduce(-.greatestFiniteMagnitude) { Swift.max($0, $1) }
            case .l1: values[row].reduce(0) { $0 + abs($1) }
            case .l2: values[row].reduce(0) { $0 + $1 * $1 }.squareRoot()
            }
            guard divisor != 0 else { continue }
            for index in row { values[index] /= divisor }
        }
        return Tensor(shape: x.shape, floats: values)
    }
}

/// ai.onnx.ml Binarizer: 1 where X > threshold, else 0 (NaN stays NaN), in X's type.
struct Binarizer: SingleOutputOperator, ShapePreserving {
    let threshold: Float

    init(_ context: OperatorContext) throws {
        threshold = try context.attributes.float("threshold", default: 0)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let values = try FeatureRows.numeric(x).map { $0 > threshold ? 1 : ($0 <= threshold ? 0 : $0) }
        return try Tensor(shape: x.shape, floats: values).converted(to: x.elementType)
    }
}

/// ai.onnx.ml Imputer: elements equal to the replaced value (NaN matches NaN) take the imputed
/// value of their feature (the last axis), or the one imputed value; X's type is kept.
struct Imputer: SingleOutputOperator, ShapePreserving {
    enum Values {
        case floats(replaced: Float, imputed: [Float])
        case integers(replaced: Int64, imputed: [Int64])

        var count: Int {
            switch self {
            case .floats(_, let imputed): imputed.count
            case .integers(_, let imputed): imputed.count
            }
        }
    }

    let values: Values

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes
        if let floats = try attributes.floats("imputed_value_floats"), !floats.isEmpty {
            values = .floats(replaced: try attributes.float("replaced_value_float", default: 0), imputed: floats)
        } else if let integers = try attributes.ints("imputed_value_int64s"), !integers.isEmpty {
            values = .integers(replaced: Int64(try attributes.int("replaced_value_int64", default: 0)), imputed: integers.map(Int64.init))
        } else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "imputed_value_floats",
                                                  reason: "one of imputed_value_floats and imputed_value_int64s must hold values")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        let features = x.shape.last ?? 1
        guard values.count == 1 || values.count == features else {
            throw InferenceError.invalidOperand("\(values.count) imputed values for \(features) features")
        }
        func imputed<T>(_ list: [T], _ index: Int) -> T { list[list.count == 1 ? 0 : index % features] }
        switch (values, x.elementType.isFloatingPoint) {
        case (.floats(let replaced, let list), true):
            let filled = try x.floatOperand("X").enumerated().map { index, value in
                value == replaced || (replaced.isNaN && value.isNaN) ? imputed(list, index) : value
            }
            return Tensor(shape: x.shape, floats: filled, as: x.elementType)
        case (.integers(let replaced, let list), false) where [.int64, .int32].contains(x.elementType):
            let filled = x.int64s.enumerated().map { index, value in value == replaced ? imputed(list, index) : value }
            return try Tensor(shape: x.shape, int64s: filled).converted(to: x.elementType)
        default:
            throw InferenceError.invalidOperand("X is \(x.elementType.rawValue), which the imputed values' type does not fit")
        }
    }
}

/// ai.onnx.ml FeatureVectorizer: the inputs' rows side by side, each input cut or zero-padded to
/// its `inputdimensions` entry; a 1-D input is one row.
struct FeatureVectorizer: SingleOutputOperator, ShapeRule {
    let widths: [Int]

    init(_ context: OperatorContext) throws {
        widths = try context.attributes.ints("inputdimensions") ?? []
        guard widths.count == context.node.inputs.count, widths.allSatisfy({ $0 >= 0 }) else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "inputdimensions",
                                                  reason: "must give a non-negative width for each of the \(context.node.inputs.count) inputs")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let parts = try inputs.indices.map { try FeatureRows(try inputs.required($0)) }
        let rows = parts.first?.rows ?? 0
        guard parts.allSatisfy({ $0.rows == rows }) else {
            throw InferenceError.invalidOperand("inputs hold \(parts.map(\.rows)) rows; they must agree")
        }
        let total = widths.reduce(0, +)
        var values = [Float](repeating: 0, count: rows * total)
        var column = 0
        for (part, width) in zip(parts, widths) {
            for row in 0..<rows {
                for feature in 0..<min(width, part.features) {
                    values[row * total + column + feature] = part.values[row * part.features + feature]
                }
            }
            column += width
        }
        return Tensor(shape: [rows, total], floats: values)
    }

    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil else { return [] }
        return [[try StaticShapes.rows(of: x), widths.reduce(0, +)]]
    }
}
