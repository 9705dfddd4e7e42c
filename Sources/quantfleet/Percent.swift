import Foundation

/// A fraction shown as a percentage.
struct Percent: CustomStringConvertible {
    let value: Double
    var digits = 2

    init(_ value: Double, digits: Int = 2) {
        self.value = value
        self.digits = digits
    }

    var description: String { String(format: "%.\(digits)f %%", value * 100) }
}
