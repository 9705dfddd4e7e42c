import CQuantKernels

/// The integer convolutions on the C kernels: ConvInteger (int32 out), QLinearConv (requantized out)
/// and ConvIntegerToFloat (float out; what the engine fuses a QDQ Conv, and quantize_dynamic's
/// ConvInteger -> Add -> Cast -> Mul, into at load). Each image's windows are unrolled as uint8 rows
/// (one per output position, padding at the activation zero point so it contributes nothing), a
/// cache-sized tile of positions at a time, and multiplied by the weights, transposed and packed
/// once at load to [C/group x kernel, M/group] per group.
struct IntegerConv: SingleOutputOperator {
    let form: IntegerForm
    let window: SlidingWindow.Attributes
    let groups: Int
    let threads: Int
    private let geometries = ShapeKeyedCache<SlidingWindow>()
    private let constantWeights: [IntegerOperands.Weights]?

    init(_ context: OperatorContext, form: IntegerForm) throws {
        self.form = form
        threads = context.threads
        window = try SlidingWindow.Attributes(context)
        groups = try context.attributes.int("group", default: 1)
        guard groups > 0 else { throw InferenceError.invalidAttribute(node: context.node.name, attribute: "group", reason: "must be positive") }
        let groups = groups
        constantWeights = try context.constantInput(form.slots.b).map { try Self.packedGroups($0, groups: groups) }
        // Constant zero points are checked against the weights' depth here, at load, not on the first request.
        if let constantWeights, let zero = context.constantInput(form.slots.bZero), let filters = context.constantInput(form.slots.b)?.shape.first {
            _ = try weightZeroPoints(zero, weights: constantWeights, filters: filters)
        }
    }

    var preparedBytes: Int { constantWeights?.reduce(0) { $0 + $1.packed.residentBytes } ?? 0 }

    /// W [M, C/group, kernel...] as one packed [C/group x kernel, M/group] matrix per group.
    private static func packedGroups(_ w: Tensor, groups: Int) throws -> [IntegerOperands.Weights] {
        guard w.shape.count >= 3, w.shape[0] % groups == 0 else {
            throw InferenceError.invalidOperand("W \(w.shape) must be [M, C/group, kernel...] with M divisible by \(groups) groups")
        }
        let groupFilters = w.shape[0] / groups, depth = w.shape.dropFirst().reduce(1, *)
        return try (0..<groups).map { group in
            let transposed = (0..<(depth * groupFilters)).map { index in
                (group * groupFilters + index % groupFilters) * depth + index / groupFilters
            }
            return try IntegerOperands.Weights(
                rowMajor: Tensor(shape: [depth * groupFilters], storage: w.storage.gathered(transposed)),
                depth: depth, columns: groupFilters, role: "W")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let slots = form.slots
        let x = try inputs.required(slots.a), w = try inputs.required(slots.b)
        guard x.shape.count >= 3, w.shape.count == x.shape.count, x.shape[1] % groups == 0, w.shape[1] == x.shape[1] / groups else {
            throw InferenceError.invalidOperand("X \(x.shape) and W \(w.shape) must both be [N, C, spatial...] and fit \(groups) group(s)")
        }
        let (batch, channels, filters) = (x.shape[0], x.shape[1], w.shape[0])
        let geometry = try geometries.geometry(inputShape: x.shape, weightShape: w.shape, attributes: window)
        let (activations, xZero) = try IntegerOperands.activations(x, zeroPoint: inputs.optional(slots.aZero), role: "x")
        let weights = try constantWeights ?? Self.packedGroups(w, groups: groups)
        let zeroPoints = try weightZeroPoints(inputs.optional(slots.bZero), weights: weights, filters: filters)

        let (groupChannels, groupFilters) = (channels / groups, filters / groups)
        let (inputCount, outputCount) = (geometry.inputSize.reduce(1, *), geometry.outputCount)
        let depth = groupChannels * geometry.kernelCount, tile = Self.tilePositions(depth: depth, filters: filters)
        let result = try form.result(inputs, columns: filters)
        // One tile of rows, and of im2col's columns before their transpose, for every tile of the run.
        var unrolled = [UInt8](recycledUnwritten: min(tile, outputCount) * depth)
        // Only 2-D windows other than 1x1 go through im2col's columns (other ranks gather rows directly).
        let throughColumns = !geometry.isIdentity && geometry.inputSize.count == 2
        var columns = [UInt8](recycledUnwritten: throughColumns ? min(tile, outputCount) * depth : 0)
        let output = activations.withUnsafeBufferPointer { x in
            result.tensor(parts: batch, rows: outputCount, columns: filters, tileRows: tile, shape: [batch, filters] + geometry.outputSize,
                          transposed: true) { image, positions, accumulators in
                for group in 0..<groups {
                    let firstChannel = (image * channels + group * groupChannels) * inputCount
                    unrolled.withUnsafeMutableBufferPointer { rows in
                        columns.withUnsafeMutableBufferPointer { columns in
                            Self.unroll(x.baseAddress! + firstChannel, channels: groupChannels, positions: positions, geometry: geometry,
                                        zero: xZero, through: columns.baseAddress, into: rows.baseAddress!)
                        }
                        // Each group's filters are its own columns of the tile's accumulators.
                        weights[group].packed.multiply(rows.baseAddress!, rows: positions.count, aZero: xZero, bZero: zeroPoints[group],
                                                       threads: threads, into: accumulators + group * groupFilters, ldc: filters)
                    }
                }
            }
        }
        unrolled.recycle()
        columns.recycle()
        return output
    }

    /// Output positions per tile: about 128 kB of rows and 128 kB of accumulators, so that a tile's
    /// unrolled windows, their transpose and its products stay in cache (whole images of the
    /// detector's first layers stream 5 MB through memory twice: 40 % of a run went there).
    private static func tilePositions(depth: Int, filters: Int) -> Int {
        min(CacheTile.rows(ofBytes: depth, within: 128 << 10, atLeast: 16),
            CacheTile.rows(ofBytes: filters * MemoryLayout<Int32>.stride, within: 128 << 10, atLeast: 16))
    }

    /// One row per output position of `positions`: the window's values channel after channel, the
    /// activation zero point where the window overhangs the padding (so it contributes nothing).
    /// 2-D windows are im2col's columns transposed, both in C; other ranks gather through the window table.
    private static func unroll(_ x: UnsafePointer<UInt8>, channels: Int, positions: Range<Int>, geometry: SlidingWindow, zero: UInt8,
                               through columns: UnsafeMutablePointer<UInt8>?, into rows: UnsafeMutablePointer<UInt8>) {
        let (inputCount, kernelCount, outputCount) = (geometry.inputSize.reduce(1, *), geometry.kernelCount, geometry.outputCount)
        if var planar = geometry.planar(channels: channels) {
            qf_conv_rows_u8(&planar, x, zero, positions.lowerBound, positions.count, columns, rows)
            return
        }
        let depth = channels * kernelCount
        geometry.inputPositions.withUnsafeBufferPointer { table in
            for position in positions {
                for channel in 0..<channels {
                    let source = x + channel * inputCount, target = rows + (position - positions.lowerBound) * depth + channel * kernelCount
                    for tap in 0..<kernelCount {
                        let input = table[tap * outputCount + position]
                        target[tap] = input >= 0 ? source[input] : zero
                    }
                }
            }
        }
    }

    /// Per-group column zero points from a per-tensor or per-filter w_zero_point.
    private func weightZeroPoints(_ tensor: Tensor?, weights: [IntegerOperands.Weights], filters: Int) throws -> [[Int8]?] {
        let groupFilters = filters / groups
        return try (0..<groups).map { group in
            try weights[group].zeroPoints(tensor, firstColumn: group * groupFilters, of: filters, role: "w_zero_point")
        }
    }
}
