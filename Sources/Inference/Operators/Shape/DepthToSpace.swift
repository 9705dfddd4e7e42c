/// DepthToSpace (DCR or CRD order) and SpaceToDepth over NCHW: a reshape, a transpose and a reshape,
/// done as one gather.
struct DepthToSpace: SingleOutputOperator {
    let blockSize: Int
    /// DepthToSpace's CRD mode: channel, then the block's row and column.
    let channelFirst: Bool
    let toSpace: Bool

    init(_ context: OperatorContext) throws {
        blockSize = try context.attributes.requiredInt("blocksize")
        guard blockSize > 0 else { throw InferenceError.invalidAttribute(node: context.node.name, attribute: "blocksize", reason: "must be positive") }
        toSpace = context.node.opType == "DepthToSpace"
        let mode = try context.attributes.string("mode", default: "DCR")
        guard mode == "DCR" || mode == "CRD" else { throw InferenceError.invalidAttribute(node: context.node.name, attribute: "mode", reason: "must be DCR or CRD") }
        channelFirst = mode == "CRD"
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0)
        guard x.shape.count == 4 else { throw InferenceError.invalidOperand("expects NCHW, got \(x.shape)") }
        let (n, c, h, w, b) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], blockSize)
        if toSpace {
            guard c % (b * b) == 0 else { throw InferenceError.invalidOperand("\(c) channels do not divide into blocks of \(b) x \(b)") }
            let channels = c / (b * b), shape = [n, channels, h * b, w * b]
            var positions: [Int] = []
            positions.reserveCapacity(x.count)
            forEachIndex(of: shape) { index in
                let (row, column) = (index[2] / b, index[3] / b), (blockRow, blockColumn) = (index[2] % b, index[3] % b)
                let source = channelFirst ? index[1] * b * b + blockRow * b + blockColumn : (blockRow * b + blockColumn) * channels + index[1]
                positions.append(((index[0] * c + source) * h + row) * w + column)
            }
            return x.gathered(positions, shape: shape)
        }
        guard h % b == 0, w % b == 0 else { throw InferenceError.invalidOperand("\(h) x \(w) does not divide into blocks of \(b)") }
        let shape = [n, c * b * b, h / b, w / b]
        var positions: [Int] = []
        positions.reserveCapacity(x.count)
        forEachIndex(of: shape) { index in
            let block = index[1] / c, channel = index[1] % c
            let row = index[2] * b + block / b, column = index[3] * b + block % b
            positions.append(((index[0] * c + channel) * h + row) * w + column)
        }
        return x.gathered(positions, shape: shape)
    }
}

/// ReverseSequence: along the time axis, the first sequence_lens[b] elements of each batch entry reversed.
struct ReverseSequence: SingleOutputOperator, ShapePreserving {
    let batchAxis: Int
    let timeAxis: Int

    init(_ context: OperatorContext) throws {
        batchAxis = try context.attributes.int("batch_axis", default: 1)
        timeAxis = try context.attributes.int("time_axis", default: 0)
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), lengths = try inputs.required(1).int64s.map { Int($0) }
        let batchAxis = try normalizedAxis(batchAxis, rank: x.shape.count), timeAxis = try normalizedAxis(timeAxis, rank: x.shape.count)
        guard lengths.count == x.shape[batchAxis], lengths.allSatisfy({ (0...x.shape[timeAxis]).contains($0) }) else {
            throw InferenceError.invalidOperand("sequence_lens \(lengths) do not fit \(x.shape)")
        }
        let strides = x.strides
        var positions: [Int] = []
        positions.reserveCapacity(x.count)
        forEachIndex(of: x.shape) { index in
            var source = index
            let length = lengths[index[batchAxis]]
            if index[timeAxis] < length { source[timeAxis] = length - 1 - index[timeAxis] }
            positions.append(position(of: source, strides: strides))
        }
        return x.gathered(positions, shape: x.shape)
    }
}
