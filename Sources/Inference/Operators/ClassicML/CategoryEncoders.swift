/// ai.onnx.ml LabelEncoder: each element mapped through parallel keys and values, the default
/// where a key is missing. Opset 1 maps strings to their index in `classes_strings` and back;
/// opset 2 takes keys_*/values_* lists, opset 4 also 1-D tensors of any listed type.
struct LabelEncoder: SingleOutputOperator, ShapePreserving {
    /// By input element type: opset 1 maps both ways, later opsets one.
    let mappings: [ElementType: CategoryMapping]

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes, node = context.node.name
        if context.opset < 2 {
            let classes = try attributes.strings("classes_strings") ?? []
            let names = Tensor(shape: [classes.count], strings: classes)
            let indices = Tensor(shape: [classes.count], int64s: classes.indices.map(Int64.init))
            mappings = [
                .string: try CategoryMapping(keys: names, values: indices,
                                             default: Tensor(shape: [], int64s: [Int64(try attributes.int("default_int64", default: -1))]), node: node),
                .int64: try CategoryMapping(keys: indices, values: names,
                                            default: Tensor(shape: [], strings: [try attributes.string("default_string", default: "_Unused")]), node: node),
            ]
            return
        }
        let keys = try Self.list(attributes, "keys", node: node)
        let values = try Self.list(attributes, "values", node: node)
        let fallback: Tensor = if let tensor = try attributes.tensor("default_tensor") {
            tensor
        } else {
            switch values.storage {
            case .string: Tensor(shape: [], strings: [try attributes.string("default_string", default: "_Unused")])
            case _ where values.elementType.isFloatingPoint:
                try Tensor(shape: [], floats: [try attributes.float("default_float", default: -0.0)]).converted(to: values.elementType)
            default: try Tensor(shape: [], int64s: [Int64(try attributes.int("default_int64", default: -1))]).converted(to: values.elementType)
            }
        }
        mappings = [keys.elementType: try CategoryMapping(keys: keys, values: values, default: fallback.reshaped(to: [1]), node: node)]
    }

    /// The one `keys_*` (or `values_*`) attribute given, as a 1-D tensor.
    private static func list(_ attributes: NodeAttributes, _ prefix: String, node: String) throws -> Tensor {
        var given: [Tensor] = []
        if let strings = try attributes.strings("\(prefix)_strings") { given.append(Tensor(shape: [strings.count], strings: strings)) }
        if let integers = try attributes.ints("\(prefix)_int64s") { given.append(Tensor(shape: [integers.count], int64s: integers.map(Int64.init))) }
        if let floats = try attributes.floats("\(prefix)_floats") { given.append(Tensor(shape: [floats.count], floats: floats)) }
        if let tensor = try attributes.tensor("\(prefix)_tensor") { given.append(tensor.reshaped(to: [tensor.count])) }
        guard given.count == 1 else {
            throw InferenceError.invalidAttribute(node: node, attribute: "\(prefix)_*", reason: "exactly one of the \(prefix)_* attributes must be set, got \(given.count)")
        }
        return given[0]
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard let mapping = mappings[x.elementType] else {
            throw InferenceError.invalidOperand("X is \(x.elementType.rawValue); the keys are \(mappings.keys.map(\.rawValue).sorted().joined(separator: " or "))")
        }
        return mapping.map(x)
    }
}

/// ai.onnx.ml CategoryMapper: strings to integers through parallel cats_strings and cats_int64s,
/// or integers to strings, by the input's type; default_int64 / default_string where missing.
struct CategoryMapper: SingleOutputOperator, ShapePreserving {
    let toIntegers: CategoryMapping
    let toStrings: CategoryMapping

    init(_ context: OperatorContext) throws {
        let attributes = context.attributes, node = context.node.name
        let strings = try attributes.strings("cats_strings") ?? [], integers = (try attributes.ints("cats_int64s") ?? []).map(Int64.init)
        let names = Tensor(shape: [strings.count], strings: strings), numbers = Tensor(shape: [integers.count], int64s: integers)
        toIntegers = try CategoryMapping(keys: names, values: numbers,
                                         default: Tensor(shape: [1], int64s: [Int64(try attributes.int("default_int64", default: -1))]), node: node)
        toStrings = try CategoryMapping(keys: numbers, values: names,
                                        default: Tensor(shape: [1], strings: [try attributes.string("default_string", default: "_Unused")]), node: node)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        switch x.elementType {
        case .string: return toIntegers.map(x)
        case .int64: return toStrings.map(x)
        default: throw InferenceError.invalidOperand("X must be string or int64, got \(x.elementType.rawValue)")
        }
    }
}

/// ai.onnx.ml OneHotEncoder: each element becomes a row of zeros with a one at its category's
/// position (a new last axis); numbers are truncated to int64 first. An unknown category gives
/// zeros, or an error without `zeros`.
struct OneHotEncoder: SingleOutputOperator, ShapeRule {
    let categories: CategoryLookup
    let categoryCount: Int
    let stringCategories: Bool
    let unknownGivesZeros: Bool

    init(_ context: OperatorContext) throws {
        if let strings = try context.attributes.strings("cats_strings"), !strings.isEmpty {
            categories = CategoryLookup(keys: Tensor(shape: [strings.count], strings: strings))
            (categoryCount, stringCategories) = (strings.count, true)
        } else if let integers = try context.attributes.ints("cats_int64s"), !integers.isEmpty {
            categories = CategoryLookup(keys: Tensor(shape: [integers.count], int64s: integers.map(Int64.init)))
            (categoryCount, stringCategories) = (integers.count, false)
        } else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "cats_strings",
                                                  reason: "one of cats_strings and cats_int64s must list the categories")
        }
        unknownGivesZeros = try context.attributes.int("zeros", default: 1) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard (x.elementType == .string) == stringCategories else {
            throw InferenceError.invalidOperand("X is \(x.elementType.rawValue) but the categories are \(stringCategories ? "strings" : "integers")")
        }
        let keys = stringCategories ? x : Tensor(shape: x.shape, int64s: x.int64s)
        var values = [Float](repeating: 0, count: x.count * categoryCount)
        for (index, position) in categories.positions(of: keys).enumerated() {
            guard let position else {
                if unknownGivesZeros { continue }
                throw InferenceError.invalidOperand("element \(index) is not one of the \(categoryCount) categories (zeros = 0)")
            }
            values[index * categoryCount + position] = 1
        }
        return Tensor(shape: x.shape + [categoryCount], floats: values)
    }

    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil else { return [] }
        return [x + [categoryCount]]
    }
}
