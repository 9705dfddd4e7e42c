import CQuantKernels

/// Which float GEMM a session's operators run: the path chosen at start-up, or a named one. The
/// paths round differently (AVX2 fuses multiply and add; scalar rounds twice), which is what the
/// agent's noise floor measures: the reference compared with itself on another kernel path.
public enum FloatKernelPath: Sendable, Equatable {
    case chosen
    case named(String)

    /// Every kernel path the C target has (dispatch.c); `supportedNames` are those this CPU runs.
    public static let knownNames = ["scalar", "avx2", "avx512-vnni", "neon", "neon-dotprod"]
    public static var supportedNames: [String] { knownNames.filter { qf_kernel_path_is_supported($0) == 1 } }

    /// Checks that this CPU can run the path.
    init(name: String?) throws {
        guard let name else {
            self = .chosen
            return
        }
        guard qf_kernel_path_is_supported(name) == 1 else { throw InferenceError.unsupportedKernelPath(name) }
        self = .named(name)
    }

    /// C = A x B, row-major, unpacked, with leading dimensions (so a block of rows or columns of a
    /// larger product can run on its own).
    func multiply(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, into c: UnsafeMutablePointer<Float>,
                  ldc: Int, rows: Int, depth: Int, columns: Int) {
        switch self {
        case .chosen: qf_sgemm(a, lda, b, ldb, c, ldc, rows, depth, columns)
        case .named(let name): _ = qf_sgemm_on_path(name, a, lda, b, ldb, c, ldc, rows, depth, columns)
        }
    }

    /// C = A x packed B; C's rows are `ldc` apart (default: `columns`).
    func multiply(_ a: UnsafePointer<Float>, packed: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
                  ldc: Int? = nil, rows: Int, depth: Int, columns: Int) {
        let ldc = ldc ?? columns
        switch self {
        case .chosen: qf_sgemm_packed(a, depth, packed, depth, columns, c, ldc, rows)
        case .named(let name): _ = qf_sgemm_packed_on_path(name, a, depth, packed, depth, columns, c, ldc, rows)
        }
    }

    /// A depthwise 2-D convolution of one image (see qf_depthwise_conv2d_f32).
    func depthwise(_ geometry: UnsafePointer<qf_conv2d_geometry>, _ input: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
                   _ bias: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>) {
        switch self {
        case .chosen: qf_depthwise_conv2d_f32(geometry, input, weights, bias, output)
        case .named(let name): _ = qf_depthwise_conv2d_f32_on_path(name, geometry, input, weights, bias, output)
        }
    }
}
