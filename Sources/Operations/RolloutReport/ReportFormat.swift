import Foundation

/// How the report writes numbers and times. Fixed formats rather than the machine's locale, so a
/// page reads the same wherever it was made.
enum ReportFormat {
    /// A fraction as a percentage: 0.0065 -> "0.65 %".
    static func percent(_ fraction: Double, digits: Int = 2) -> String {
        String(format: "%.\(digits)f %%", withoutNegativeZero(fraction * 100, digits: digits))
    }

    /// A threshold as a percentage without needless zeros: 0.01 -> "1 %", 0.015 -> "1.5 %".
    static func threshold(_ fraction: Double) -> String {
        var text = String(format: "%.2f", withoutNegativeZero(fraction * 100, digits: 2))
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text + " %"
    }

    /// Tick values are sums of steps, so zero can come out as -1e-18, which would print as "-0.00".
    private static func withoutNegativeZero(_ value: Double, digits: Int) -> Double {
        abs(value) < 0.5 * pow(10, -Double(digits)) ? 0 : value
    }

    /// A count with thousands separators: 2007 -> "2,007".
    static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    /// A time in UTC to the second: "2026-11-29 07:01:02 UTC".
    static func time(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d UTC",
            parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }
}
