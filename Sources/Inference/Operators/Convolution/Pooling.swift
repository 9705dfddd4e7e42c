import CQuantKernels
import Foundation

/// MaxPool, AveragePool and LpPool over 1 to 3 spatial dimensions. MaxPool's optional Indices output
/// holds flat positions in X, row-major (storage_order 0) or with the spatial axes column-major
/// (storage_order 1). AveragePool divides by the positions inside
/// the input, or, with count_include_pad, inside the input and its pads. LpPool takes the p-norm of
/// each window.
struct Pooling: Operator {
    enum Kind: String, CaseIterable {
        case max = "MaxPool", average = "AveragePool", lp = "LpPool"
    }

    let kind: Kind
    /// LpPool's norm.
    let p: Float
    let window: SlidingWindow.Attributes
    let kernel: [Int]
    let countsPadding: Bool
    /// The node reads MaxPool's Indices: only then are they computed.
    let givesIndices: Bool
    let columnMajorIndices: Bool
    private let geometries = ShapeKeyedCache<SlidingWindow>()

    init(_ context: OperatorContext, kind: Kind) throws {
        self.kind = kind
        p = Float(try context.attributes.int("p", default: 2))
        window = try SlidingWindow.Attributes(context)
        guard let kernel = window.kernel else {
            throw InferenceError.invalidAttribute(node: context.node.name, attribute: "kernel_shape", reason: "is required")
        }
        self.kernel = kernel
        countsPadding = try context.attributes.int("count_include_pad", default: 0) != 0
        givesIndices = kind == .max && context.node.outputs.count > 1 && !context.node.outputs[1].isEmpty
        columnMajorIndices = try context.attributes.int("storage_order", default: 0) != 0
    }

    func run(_ inputs: [Tensor?], into outputs: inout [Tensor]) throws {
        let x = try inputs.required(0)
        guard x.shape.count >= 3 else { throw InferenceError.invalidOperand("X must be [N, C, spatial...], got \(x.shape)") }
        let geometry = try geometries.geometry(inputShape: x.shape, kernel: kernel, attributes: window)
        // MaxPool also takes 8-bit integers, exact in FP32; averages and norms need floats.
        let integral = kind == .max && (x.elementType == .int8 || x.elementType == .uint8)
        let values = integral ? x.floats : try x.floatOperand("X")
        let planes = x.shape[0] * x.shape[1]
        let shape = Array(x.shape.prefix(2)) + geometry.outputSize
        /// The pooled values in X's element type (8-bit integers were pooled as floats, exactly).
        func pooled(_ output: [Float]) throws -> Tensor {
            integral ? try Tensor(shape: shape, floats: output).converted(to: x.elementType) : Tensor(shape: shape, floats: output, as: x.elementType)
        }
        if kind != .lp, !givesIndices, var planar = geometry.planar(channels: planes) {
            outputs.append(try pooled(pooled2D(values, geometry: geometry, planar: &planar)))
            return
        }
        let (inputCount, kernelCount, outputCount) = (geometry.inputSize.reduce(1, *), geometry.kernelCount, geometry.outputCount)
        let table = geometry.inputPositions
        var output = [Float](recycledUnwritten: planes * outputCount)
        var indices = [Int64](recycledUnwritten: givesIndices ? planes * outputCount : 0)
        for plane in 0..<planes {
            let base = plane * inputCount
            for position in 0..<outputCount {
                var best = -Float.infinity, bestIndex = 0, total: Float = 0, counted = 0
                for kernelPosition in 0..<kernelCount {
                    let source = table[kernelPosition * outputCount + position]
                    if source >= 0 {
                        let value = values[base + source]
                        if value > best { (best, bestIndex) = (value, base + source) }
                        total += kind == .lp ? Foundation.pow(abs(value), p) : value
                        counted += 1
                    } else if source == SlidingWindow.padding, countsPadding {
                        counted += 1
                    }
                }
                let target = plane * outputCount + position
                switch kind {
                case .max:
                    output[target] = best
                    if givesIndices {
                        indices[target] = Int64(columnMajorIndices ? base + Self.columnMajor(bestIndex - base, in: geometry.inputSize) : bestIndex)
                    }
                case .average:
                    output[target] = counted > 0 ? total / Float(counted) : 0
                case .lp:
                    output[target] = Foundation.pow(total, 1 / p)
                }
            }
        }
        outputs.append(try pooled(output))
        if givesIndices { outputs.append(Tensor(shape: shape, int64s: indices)) }
    }
}

extension Pooling {
    /// Max or average pooling over 2-D planes on the C kernel, which reduces each window row by row.
    private func pooled2D(_ values: [Float], geometry: SlidingWindow, planar: inout qf_conv2d_geometry) -> [Float] {
        var output = [Float](recycledUnwritten: planar.channels * geometry.outputCount)
        let counts = (0..<2).map { kind == .average ? Self.averagedTaps(along: $0, of: geometry, countingPadding: countsPadding) : [] }
        values.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                qf_pool2d_f32(&planar, kind == .max ? QF_POOL_MAX : QF_POOL_AVERAGE, input.baseAddress!,
                              counts[0], counts[1], output.baseAddress!)
            }
        }
        return output
    }

    /// For each output index along `axis`, how many of the window's taps along it an average counts:
    /// those inside the input and, with count_include_pad, those in the pads (never those past the
    /// pads, which only ceil_mode reaches). A 2-D window counts the product of its row's and column's.
    static func averagedTaps(along axis: Int, of geometry: SlidingWindow, countingPadding: Bool) -> [Float] {
        let (size, begin, end) = (geometry.inputSize[axis], geometry.padsBegin[axis], geometry.padsEnd[axis])
        let (low, high) = countingPadding ? (-begin, size + end) : (0, size)
        return (0..<geometry.outputSize[axis]).map { output in
            let first = output * geometry.strides[axis] - begin
            return Float((0..<geometry.kernel[axis]).count { (low..<high).contains(first + $0 * geometry.dilations[axis]) })
        }
    }

    /// A row-major position within a plane of `size`, renumbered with the first spatial axis fastest.
    static func columnMajor(_ position: Int, in size: [Int]) -> Int {
        var remainder = position, result = 0, stride = 1
        let strides = rowMajorStrides(size)
        for axis in size.indices {
            result += (remainder / strides[axis]) * stride
            remainder %= strides[axis]
            stride *= size[axis]
        }
        return result
    }
}

/// GlobalAveragePool, GlobalMaxPool and GlobalLpPool: one value per [N, C] plane, spatial dimensions kept as 1.
struct GlobalPooling: SingleOutputOperator {
    let kind: Pooling.Kind
    let p: Float

    init(_ context: OperatorContext, kind: Pooling.Kind) throws {
        self.kind = kind
        p = Float(try context.attributes.int("p", default: 2))
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard x.shape.count >= 3 else { throw InferenceError.invalidOperand("X must be [N, C, spatial...], got \(x.shape)") }
        let values = try x.floatOperand("X")
        let planeSize = x.shape.dropFirst(2).reduce(1, *)
        let results = (0..<(x.shape[0] * x.shape[1])).map { plane in
            let slice = values[(plane * planeSize)..<((plane + 1) * planeSize)]
            switch kind {
            case .max: return slice.max() ?? 0
            case .average: return slice.reduce(0, +) / Float(planeSize)
            case .lp: return Foundation.pow(slice.reduce(0) { $0 + Foundation.pow(abs($1), p) }, 1 / p)
            }
        }
        let shape = Array(x.shape.prefix(2)) + Array(repeating: 1, count: x.shape.count - 2)
        return Tensor(shape: shape, floats: results, as: x.elementType)
    }
}

extension Pooling: ShapeRule {
    /// The pooled values, and MaxPool's indices of the same shape.
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil, x.count >= 3 else { return [] }
        let pooled = try SlidingWindow.outputShape(input: x, channels: x[1], kernel: kernel, attributes: window)
        return givesIndices ? [pooled, pooled] : [pooled]
    }
}

extension GlobalPooling: ShapeRule {
    func outputShapes(_ inputs: [StaticShape?]) throws -> [StaticShape?] {
        guard let x = inputs.first ?? nil, x.count >= 3 else { return [] }
        return [Array(x.prefix(2)) + Array(repeating: 1, count: x.count - 2)]
    }
}
