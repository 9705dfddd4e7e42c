import CQuantKernels

/// The operands of the integer operators, brought to the one form the C kernels take: uint8
/// activations and int8 weights. The other signedness is shifted by 128 in value and zero point
/// alike, which leaves every difference (x - zero) and so every product unchanged.
enum IntegerOperands {
    /// Activations as uint8 with their zero point (int8 shifted up by 128).
    static func activations(_ tensor: Tensor, zeroPoint: Tensor?, role: String) throws -> (values: [UInt8], zero: UInt8) {
        let values: [UInt8]
        switch tensor.storage {
        case .uint8(let raw): values = raw
        case .int8(let raw): values = raw.map { UInt8(Int16($0) + 128) }
        default: throw InferenceError.invalidOperand("\(role) must be uint8 or int8, got \(tensor.elementType.rawValue)")
        }
        let shift: Int64 = tensor.elementType == .int8 ? 128 : 0
        guard let zeroPoint else { return (values, UInt8(shift)) }
        guard zeroPoint.elementType == tensor.elementType, zeroPoint.count == 1 else {
            throw InferenceError.invalidOperand(
                "\(role)'s zero point must be one \(tensor.elementType.rawValue), got \(zeroPoint.elementType.rawValue) \(zeroPoint.shape)")
        }
        return (values, UInt8(zeroPoint.int64(at: 0) + shift))
    }

    /// Weights [K, N] (row-major int8 or uint8), packed once, with whether they were shifted.
    struct Weights: Sendable {
        let packed: PackedInt8Weights
        let shiftedFromUnsigned: Bool

        init(_ b: Tensor, role: String = "B") throws {
            guard b.shape.count == 2 else { throw InferenceError.invalidOperand("\(role) must be 2-D, got \(b.shape)") }
            try self.init(rowMajor: b, depth: b.shape[0], columns: b.shape[1], role: role)
        }

        /// `b` holds depth x columns values in row-major order, whatever its shape.
        /// - Throws: for a depth past the int8 kernels' exact int32 range (see CQuantKernels.h).
        init(rowMajor b: Tensor, depth: Int, columns: Int, role: String) throws {
            guard depth <= Int(QF_MAX_DEPTH) else {
                throw InferenceError.invalidOperand(
                    "\(role) has depth \(depth); the int8 kernels sum at most \(QF_MAX_DEPTH) products exactly in int32")
            }
            switch b.storage {
            case .int8(let values):
                packed = PackedInt8Weights(rowMajor: values, depth: depth, columns: columns)
                shiftedFromUnsigned = false
            case .uint8(let values):
                packed = PackedInt8Weights(rowMajor: values.map { Int8(Int16($0) - 128) }, depth: depth, columns: columns)
                shiftedFromUnsigned = true
            default:
                throw InferenceError.invalidOperand("\(role) must be int8 or uint8, got \(b.elementType.rawValue)")
            }
        }

        /// Per-column zero points (shifted like the weights), or nil for all zeros. A per-column
        /// `tensor` of a grouped convolution holds all `tensorColumns`; these weights' start at `firstColumn`.
        func zeroPoints(_ tensor: Tensor?, firstColumn: Int = 0, of tensorColumns: Int? = nil, role: String) throws -> [Int8]? {
            let columns = packed.columns, tensorColumns = tensorColumns ?? columns
            guard let tensor else { return shiftedFromUnsigned ? Array(repeating: -128, count: columns) : nil }
            let expected: ElementType = shiftedFromUnsigned ? .uint8 : .int8
            guard tensor.elementType == expected, tensor.count == 1 || tensor.count == tensorColumns else {
                throw InferenceError.invalidOperand(
                    "\(role) must be \(expected.rawValue) with 1 or \(tensorColumns) values, got \(tensor.elementType.rawValue) \(tensor.shape)")
            }
            // Read from the typed array once: this runs on every run of every integer MatMul.
            let stored: [Int8] = switch tensor.storage {
            case .int8(let values): values
            case .uint8(let values): values.map { Int8(Int16($0) - 128) }
            default: []  // excluded by the type check above
            }
            let perColumn = stored.count > 1
            func zeroPoint(_ column: Int) -> Int8 { stored[perColumn ? firstColumn + column : 0] }
            // All zero (symmetric weights, the common case): the kernel then skips the activation row sums.
            guard (0..<(perColumn ? columns : 1)).contains(where: { zeroPoint($0) != 0 }) else { return nil }
            guard packed.depth <= Int(QF_MAX_DEPTH_WITH_ZERO_POINTS) else {
                throw InferenceError.invalidOperand("\(role) is not zero at depth \(packed.depth); with weight zero points "
                    + "the int8 kernels sum at most \(QF_MAX_DEPTH_WITH_ZERO_POINTS) products exactly in int32")
            }
            return (0..<columns).map(zeroPoint)
        }
    }

    /// One scale per column: a per-tensor scale repeated, or per-column scales as given.
    static func columnScales(_ tensor: Tensor, columns: Int, role: String) throws -> [Float] {
        let values = try tensor.floatOperand(role)
        guard values.count == 1 || values.count == columns else {
            throw InferenceError.invalidOperand("\(role) must hold 1 or \(columns) values, got \(tensor.shape)")
        }
        return values.count == columns ? values : Array(repeating: values[0], count: columns)
    }

    /// A per-tensor float scale.
    static func scalarScale(_ tensor: Tensor, role: String) throws -> Float {
        let values = try tensor.floatOperand(role)
        guard values.count == 1 else { throw InferenceError.invalidOperand("\(role) must be one value, got \(tensor.shape)") }
        return values[0]
    }
}
