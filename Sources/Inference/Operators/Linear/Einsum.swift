/// Einsum (opset 12): any number of operands, explicit ("ij,jk->ik") or implicit ("ij,jk": the
/// labels used once, alphabetically) output, "..." for broadcast leading axes, and a label repeated in
/// one operand for its diagonal. Operands are contracted left to right, each pair as one batched GEMM;
/// a label no later operand or the output needs is summed away as soon as possible. Integer operands
/// are computed in FP32 too (exact up to 2^24).
struct Einsum: SingleOutputOperator {
    private enum Symbol: Equatable {
        case letter(Character)
        case ellipsis
    }

    private let inputTerms: [[Symbol]]
    /// nil: implicit output.
    private let outputTerm: [Symbol]?
    private let multiplier: MatrixMultiplier

    init(_ context: OperatorContext) throws {
        multiplier = context.multiplier
        let equation = try context.attributes.string("equation", default: "").filter { !$0.isWhitespace }
        func invalid(_ reason: String) -> InferenceError {
            InferenceError.invalidAttribute(node: context.node.name, attribute: "equation", reason: "'\(equation)' \(reason)")
        }
        func term(_ text: Substring) throws -> [Symbol] {
            var symbols: [Symbol] = [], rest = text
            while let first = rest.first {
                if rest.hasPrefix("...") {
                    guard !symbols.contains(.ellipsis) else { throw invalid("has two ellipses in one term") }
                    symbols.append(.ellipsis)
                    rest = rest.dropFirst(3)
                } else {
                    guard first.isASCII, first.isLetter else { throw invalid("holds '\(first)', which is not a letter") }
                    symbols.append(.letter(first))
                    rest = rest.dropFirst()
                }
            }
            return symbols
        }
        let sides = equation.split(separator: "->", omittingEmptySubsequences: false)
        guard sides.count <= 2 else { throw invalid("has more than one '->'") }
        inputTerms = try sides[0].split(separator: ",", omittingEmptySubsequences: false).map(term)
        outputTerm = try sides.count == 2 ? term(sides[1]) : nil
        if let outputTerm {
            let letters = outputTerm.compactMap { if case .letter(let letter) = $0 { letter } else { nil } }
            guard Set(letters).count == letters.count else { throw invalid("repeats a label in the output") }
            guard Set(letters).isSubset(of: Set(inputTerms.joined().compactMap { if case .letter(let letter) = $0 { letter } else { nil } })) else {
                throw invalid("has an output label no operand has")
            }
        }
        guard context.node.inputs.count == inputTerms.count else {
            throw invalid("names \(inputTerms.count) operands, the node has \(context.node.inputs.count)")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let tensors = try inputTerms.indices.map { try inputs.required($0) }
        let operands = try zip(inputTerms, tensors).map { term, tensor in
            LabelledOperand(labels: try Self.labels(of: term, rank: tensor.shape.count), shape: tensor.shape,
                            values: try tensor.elementType.isFloatingPoint ? tensor.floatOperand("input") : tensor.floats)
        }
        let ellipsisRank = operands.map { $0.labels.filter { $0 < 0 }.count }.max() ?? 0
        let outputLabels = try outputTerm.map { term in
            try Self.labels(of: term, rank: term.filter { $0 != .ellipsis }.count + (term.contains(.ellipsis) ? ellipsisRank : 0))
        } ?? implicitOutput(operands, ellipsisRank: ellipsisRank)
        let sizes = try labelSizes(operands)
        let prepared = operands.map { $0.diagonalized().broadcast(to: sizes) }
        var result = prepared[0]
        for (index, next) in prepared.enumerated().dropFirst() {
            let later = Set(outputLabels).union(prepared[(index + 1)...].flatMap(\.labels))
            // A label that neither this pair's other side, a later operand nor the output has is summed away first.
            result = result.summingOut { !later.contains($0) && !next.labels.contains($0) }
            let trimmed = next.summingOut { [result] in !later.contains($0) && !result.labels.contains($0) }
            result = result.contracted(with: trimmed, keeping: later, on: multiplier)
        }
        result = result.summingOut { !outputLabels.contains($0) }
        let values = result.permuted(to: outputLabels).values
        let shape = outputLabels.map { sizes[$0]! }
        let first = tensors[0]
        return first.elementType.isFloatingPoint ? Tensor(shape: shape, floats: values, as: first.elementType)
            : try Tensor(shape: shape, floats: values.map { $0.rounded() }).converted(to: first.elementType)
    }

    /// Letters as their code points; the axes "..." covers as -1 (rightmost), -2, ..., so operands
    /// with fewer leading axes line up on the right as they broadcast.
    private static func labels(of term: [Symbol], rank: Int) throws -> [Int] {
        let letters = term.filter { $0 != .ellipsis }.count
        let ellipsisAxes = rank - letters
        guard ellipsisAxes == 0 || term.contains(.ellipsis), ellipsisAxes >= 0 else {
            throw InferenceError.invalidOperand("equation term of \(letters) labels\(term.contains(.ellipsis) ? " and ..." : "") does not fit an operand of rank \(rank)")
        }
        return term.flatMap { symbol -> [Int] in
            switch symbol {
            case .letter(let letter): [Int(letter.asciiValue!)]
            case .ellipsis: (0..<ellipsisAxes).map { $0 - ellipsisAxes }
            }
        }
    }

    /// The broadcast axes, then the letters used exactly once, alphabetically (numpy's order).
    private func implicitOutput(_ operands: [LabelledOperand], ellipsisRank: Int) -> [Int] {
        let letters = operands.flatMap { $0.labels.filter { $0 >= 0 } }
        let once = Set(letters).filter { letter in letters.count { $0 == letter } == 1 }
        return (0..<ellipsisRank).map { $0 - ellipsisRank } + once.sorted()
    }

    /// Each label's size: equal wherever it appears, except that a broadcast axis of size 1 stretches.
    private func labelSizes(_ operands: [LabelledOperand]) throws -> [Int: Int] {
        var sizes: [Int: Int] = [:]
        for operand in operands {
            for (label, size) in zip(operand.labels, operand.shape) {
                switch sizes[label] {
                case nil: sizes[label] = size
                case let known? where known == size: break
                case let known? where label < 0 && (known == 1 || size == 1): sizes[label] = max(known, size)
                case let known?:
                    let name = label < 0 ? "a broadcast axis" : "label '\(Character(UnicodeScalar(UInt8(label))))'"
                    throw InferenceError.invalidOperand("\(name) has size \(known) in one operand and \(size) in another")
                }
            }
        }
        return sizes
    }
}

/// An Einsum operand in FP32 with one label per axis.
private struct LabelledOperand {
    var labels: [Int]
    var shape: [Int]
    var values: [Float]

    /// The elements at `shape`, stepping `strides` through these values per axis.
    private func strided(_ shape: [Int], _ strides: [Int]) -> [Float] {
        Transpose.positions(shape: shape, sourceStrides: strides, offset: 0).map { values[$0] }
    }

    /// A label repeated within the operand keeps only its diagonal: one axis whose step is the sum
    /// of the repeated axes' strides.
    func diagonalized() -> LabelledOperand {
        let unique = labels.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
        guard unique.count < labels.count else { return self }
        let strides = rowMajorStrides(shape)
        let uniqueStrides = unique.map { label in labels.indices.filter { labels[$0] == label }.reduce(0) { $0 + strides[$1] } }
        let uniqueShape = unique.map { shape[labels.firstIndex(of: $0)!] }
        return LabelledOperand(labels: unique, shape: uniqueShape, values: strided(uniqueShape, uniqueStrides))
    }

    /// Size-1 broadcast axes stretched to their label's size (a zero stride).
    func broadcast(to sizes: [Int: Int]) -> LabelledOperand {
        let target = labels.map { sizes[$0]! }
        guard target != shape else { return self }
        let strides = zip(rowMajorStrides(shape), shape).map { stride, size in size == 1 ? 0 : stride }
        return LabelledOperand(labels: labels, shape: target, values: strided(target, strides))
    }

    /// The axes in the order `order` (a permutation of the labels).
    func permuted(to order: [Int]) -> LabelledOperand {
        guard order != labels else { return self }
        let strides = rowMajorStrides(shape)
        let axes = order.map { labels.firstIndex(of: $0)! }
        let newShape = axes.map { shape[$0] }
        return LabelledOperand(labels: order, shape: newShape, values: strided(newShape, axes.map { strides[$0] }))
    }

    /// The sum over every axis whose label `isSummed`.
    func summingOut(where isSummed: (Int) -> Bool) -> LabelledOperand {
        let summed = labels.filter(isSummed)
        guard !summed.isEmpty else { return self }
        let kept = labels.filter { !isSummed($0) }
        let ordered = permuted(to: kept + summed)
        let block = summed.map { shape[labels.firstIndex(of: $0)!] }.reduce(1, *)
        let blocks = block == 0 ? kept.map { shape[labels.firstIndex(of: $0)!] }.reduce(1, *) : ordered.values.count / block
        let sums = (0..<blocks).map { index in ordered.values[(index * block)..<((index + 1) * block)].reduce(0, +) }
        return LabelledOperand(labels: kept, shape: Array(ordered.shape.prefix(kept.count)), values: sums)
    }

    /// The product with `other`, summed over the labels both share that `needed` lacks: both laid out
    /// as [batch, rows, depth] and [batch, depth, columns], then one GEMM per batch. Labels only one
    /// side has must all be needed (summed out before).
    func contracted(with other: LabelledOperand, keeping needed: Set<Int>, on multiplier: MatrixMultiplier) -> LabelledOperand {
        let shared = labels.filter(other.labels.contains)
        let batch = shared.filter(needed.contains), depth = shared.filter { !needed.contains($0) }
        let rows = labels.filter { !other.labels.contains($0) }, columns = other.labels.filter { !labels.contains($0) }
        let left = permuted(to: batch + rows + depth), right = other.permuted(to: batch + depth + columns)
        func size(_ group: [Int], in operand: LabelledOperand) -> Int {
            group.map { operand.shape[operand.labels.firstIndex(of: $0)!] }.reduce(1, *)
        }
        let (batches, rowCount, depthCount, columnCount) = (size(batch, in: self), size(rows, in: self), size(depth, in: self), size(columns, in: other))
        let product = [Float](unsafeUninitializedCapacity: batches * rowCount * columnCount) { output, initialized in
            output.initialize(repeating: 0)
            if depthCount > 0, !output.isEmpty {
                left.values.withUnsafeBufferPointer { a in
                    right.values.withUnsafeBufferPointer { b in
                        for index in 0..<batches {
                            multiplier.multiply(a.baseAddress! + index * rowCount * depthCount, b.baseAddress! + index * depthCount * columnCount,
                                                into: output.baseAddress! + index * rowCount * columnCount,
                                                rows: rowCount, depth: depthCount, columns: columnCount)
                        }
                    }
                }
            }
            initialized = output.count
        }
        let labelsOut = batch + rows + columns
        let shapeOut = Array(left.shape.prefix(batch.count + rows.count)) + Array(right.shape.suffix(columns.count))
        return LabelledOperand(labels: labelsOut, shape: shapeOut, values: product)
    }
}
