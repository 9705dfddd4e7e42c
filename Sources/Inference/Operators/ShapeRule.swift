/// A tensor's shape as known at load: one entry per dimension, nil for a dimension known only at
/// run (a batch, a sequence length). A shape whose rank is unknown is a nil `StaticShape?`.
public typealias StaticShape = [Int?]

/// An operator's shape rule: its outputs' shapes worked out from its inputs' shapes before any run,
/// declared on the operator beside its kernel. The plan applies the rules at load, from the graph's
/// declared input shapes and its constants, so that operands that can never fit (a MatMul's inner
/// dimensions, shapes that do not broadcast) refuse the model at load, naming the node, instead of
/// failing on the first request; `quantfleet check` shows what they give for the graph's outputs.
/// The conformance suite holds each rule to its kernel: every output shape the rule states must be
/// the shape the kernel produces.
protocol ShapeRule {
    /// One entry per output the rule knows (fewer entries, or nil: known only at run). `inputs`
    /// follows the node's input list; nil for an omitted operand or one of unknown rank.
    /// - Throws: `InferenceError.invalidOperand` when the known dimensions cannot fit together.
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?]
}

/// Every output has the first input's shape: unary elementwise functions, activations,
/// normalisations, casts.
protocol ShapePreserving: ShapeRule {}

extension ShapePreserving {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] { [inputs.first ?? nil] }
}

/// The output is the operands' common (numpy-style) broadcast shape.
protocol ShapeBroadcasting: ShapeRule {}

extension ShapeBroadcasting {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] { [try StaticShapes.broadcast(inputs)] }
}

public enum StaticShapes {
    /// The numpy broadcast of `shapes`: nil when a rank is unknown. A dimension known to be 1
    /// stretches; two known sizes other than 1 must agree; an unknown one against 1 stays unknown.
    static func broadcast(_ shapes: [StaticShape?]) throws -> StaticShape? {
        var ranked: [StaticShape] = []
        for shape in shapes {
            guard let shape else { return nil }
            ranked.append(shape)
        }
        let rank = ranked.map(\.count).max() ?? 0
        return try (0..<rank).map { axis -> Int? in
            let sizes = ranked.map { shape -> Int? in
                let index = axis - (rank - shape.count)
                return index < 0 ? 1 : shape[index]
            }
            let stretched = Set(sizes.compactMap { $0 }.filter { $0 != 1 })
            guard stretched.count <= 1 else {
                throw InferenceError.invalidOperand("shapes \(ranked.map(describe).joined(separator: " and ")) cannot be broadcast together")
            }
            if let size = stretched.first { return size }
            return sizes.contains(where: { $0 == nil }) ? nil : 1
        }
    }

    /// numpy's matmul: 1-D operands promoted and the promoted axis dropped again, batch axes
    /// broadcast, the inner dimensions equal where both are known.
    static func matmul(_ a: StaticShape?, _ b: StaticShape?) throws -> StaticShape? {
        guard let a, let b, !a.isEmpty, !b.isEmpty else { return nil }
        let left = a.count == 1 ? [1] + a : a, right = b.count == 1 ? b + [1] : b
        if let inner = left.last!, let depth = right[right.count - 2], inner != depth {
            throw InferenceError.invalidOperand("MatMul's inner dimensions differ: \(describe(a)) times \(describe(b))")
        }
        guard let batch = try broadcast([Array(left.dropLast(2)), Array(right.dropLast(2))]) else { return nil }
        var result = batch
        if a.count > 1 { result.append(left[left.count - 2]) }
        if b.count > 1 { result.append(right.last!) }
        return result
    }

    /// The product of `sizes`, when every one is known. Sizes whose nonzero ones multiply past
    /// `Int.max` are no shape any tensor has, even an empty one (every partial product of its shape
    /// must fit, as operators take products of some of its dimensions): such a shape, from a model's
    /// constants, is refused.
    static func product<Sizes: Sequence<Int?>>(_ sizes: Sizes) throws -> Int? {
        var known: [Int] = []
        for size in sizes {
            guard let size else { return nil }
            known.append(size)
        }
        guard let count = elementCount(known) else {
            throw InferenceError.invalidOperand("the sizes \(known) multiply past \(Int.max) elements")
        }
        return count
    }

    /// The element count of `shape`; nil when its nonzero sizes multiply past `Int.max`.
    static func elementCount(_ shape: [Int]) -> Int? {
        var nonzero = 1
        for size in shape where size != 0 {
            let (product, overflow) = nonzero.multipliedReportingOverflow(by: size)
            if overflow { return nil }
            nonzero = product
        }
        return shape.contains(0) ? 0 : nonzero
    }

    /// `[1, ?, 3]`, as error messages write a shape with unknown dimensions.
    public static func describe(_ shape: StaticShape) -> String {
        "[" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
    }

    /// Whether a run's `actual` shape is one `shape` allows.
    public static func admits(_ shape: StaticShape, _ actual: [Int]) -> Bool {
        shape.count == actual.count && zip(shape, actual).allSatisfy { $0.0 == nil || $0.0 == $0.1 }
    }
}
