/// The rational approximations of MLAS (onnxruntime's math library) that its x86 FMA3 kernels
/// evaluate, for the operators whose results onnxruntime computes through them: the approximation
/// errors (about 1e-7 absolute) are relative errors of 100 % and more where a result cancels to
/// nearly 0, as FastGelu's 1 + tanh and QuickGelu's logistic do for negative inputs, and they move
/// the rare level of a quantized table that falls near a rounding tie.
enum MLASFunctions {
    /// The logistic function: x clamped to [-18, 18], x p(x^2) / q(x^2) + 1/2 (Eigen's
    /// polynomials, by fused multiply-adds), floored at 0.
    @Sendable static func logistic(_ input: Float) -> Float {
        let x = min(max(input, -18), 18)
        let p = polynomial(x * x, [4.370_310_125_798_01e-11, 1.156_273_244_599_42e-07, 6.085_748_646_001_43e-05, 8.513_771_333_047_01e-03,
                                   2.482_879_470_615_29e-01])
        let q = polynomial(x * x, [6.102_473_897_556_81e-13, 5.761_021_369_934_27e-09, 6.291_067_850_170_40e-06, 1.701_988_173_740_94e-03,
                                   1.168_176_569_044_53e-01, 9.931_519_210_231_80e-01])
        return max(0, x * p / q + 0.5)
    }

    /// The hyperbolic tangent: x clamped to [-9, 9], x p(x^2) / q(x^2) (Eigen's polynomials, by fused
    /// multiply-adds).
    @Sendable static func tanh(_ input: Float) -> Float {
        let x = min(max(input, -9), 9)
        let p = polynomial(x * x, [-2.760_768_477_423_55e-16, 2.000_187_904_824_77e-13, -8.604_671_522_137_35e-11, 5.122_297_090_371_14e-08,
                                   1.485_722_357_179_79e-05, 6.372_619_288_754_36e-04, 4.893_524_558_917_86e-03])
        let q = polynomial(x * x, [1.198_258_394_667_02e-06, 1.185_347_056_866_54e-04, 2.268_434_632_439_00e-03, 4.893_525_185_543_85e-03])
        return x * p / q
    }

    /// Horner's rule from the highest coefficient, one fused multiply-add a step.
    private static func polynomial(_ square: Float, _ coefficients: [Float]) -> Float {
        coefficients.dropFirst().reduce(coefficients[0]) { value, coefficient in coefficient.addingProduct(square, value) }
    }
}
