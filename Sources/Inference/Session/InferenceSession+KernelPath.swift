extension InferenceSession {
    /// The integer kernel path chosen for this CPU at start-up, known before any model is loaded.
    public static var integerKernelPath: String { PackedInt8Weights.kernelPathName }
}
