import Foundation

/// One chart axis: maps values onto pixels, over a domain widened to round tick values so the
/// gridlines land on numbers people read at a glance (0, 0.5, 1, 1.5 ... rather than 0.37).
struct LinearScale {
    let domain: ClosedRange<Double>
    /// Pixel positions of the domain's lower and upper ends; for a y axis `start` is the bottom.
    let start: Double
    let end: Double
    let ticks: [Double]

    init(covering values: ClosedRange<Double>, from start: Double, to end: Double, tickCount: Int = 6, integral: Bool = false) {
        let span = values.upperBound - values.lowerBound
        var step = Self.roundStep(span > 0 ? span / Double(max(tickCount, 1)) : max(abs(values.upperBound), 1) / Double(max(tickCount, 1)))
        if integral { step = max(step.rounded(.up), 1) }
        let lower = (values.lowerBound / step).rounded(.down) * step
        var upper = (values.upperBound / step).rounded(.up) * step
        if upper <= lower { upper = lower + step }
        domain = lower...upper
        self.start = start
        self.end = end
        let count = Int(((upper - lower) / step).rounded())
        // Multiples of the step rather than repeated addition, so 0.1 + 0.2 never shows as 0.30000000000000004.
        ticks = (0...count).map { lower + Double($0) * step }
    }

    func position(_ value: Double) -> Double {
        start + (value - domain.lowerBound) / (domain.upperBound - domain.lowerBound) * (end - start)
    }

    /// 1, 2 or 5 times a power of ten, at least `raw`.
    private static func roundStep(_ raw: Double) -> Double {
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let residual = raw / magnitude
        let factor: Double = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 5 ? 5 : 10
        return factor * magnitude
    }
}
