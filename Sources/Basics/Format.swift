// Short number formats for dense screens.
import Foundation

/// Number formats that fit in a few columns.
public enum Format {
    /// A value in at most 8 columns with about 3 significant digits:
    /// `0`, `0.0123`, `3.21`, `12.3`, `123`, `12345`, `1.2e30`, `-1e-5`, `nan`, `inf`, `-inf`.
    public static func value(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 99_999.5 || a < 0.001 { return scientific(v, digits: 1) }
        if a >= 99.95 { return String(format: "%.0f", v) }
        if a >= 9.995 { return String(format: "%.1f", v) }
        if a >= 0.9995 { return String(format: "%.2f", v) }
        return String(format: "%.3g", v)
    }

    /// `1.2e30`, `1e-5`, `-3.4e-12`: C's `%.Ne` without `+`, exponent zeros or a `.0`.
    public static func scientific(_ v: Double, digits: Int) -> String {
        let s = String(format: "%.\(digits)e", v)
        guard let e = s.firstIndex(of: "e") else { return s }
        var mantissa = String(s[..<e])
        var exponent = String(s[s.index(after: e)...])
        if mantissa.contains(".") {
            while mantissa.hasSuffix("0") { mantissa.removeLast() }
            if mantissa.hasSuffix(".") { mantissa.removeLast() }
        }
        var sign = ""
        if exponent.hasPrefix("-") { sign = "-" }
        exponent = String(exponent.drop { $0 == "+" || $0 == "-" })
        while exponent.count > 1 && exponent.hasPrefix("0") { exponent.removeFirst() }
        return mantissa + "e" + sign + exponent
    }

    /// A tick label: whole numbers without decimals (`500`, `12k` from 10 000 on), else `value`.
    public static func tick(_ v: Double) -> String {
        if v.isFinite, v == v.rounded(), abs(v) < 1e15 {
            let n = Int(v)
            if abs(n) >= 10_000, n % 1000 == 0 { return "\(n / 1000)k" }
            return "\(n)"
        }
        return value(v)
    }

    /// A duration: `42s`, `4:51`, `1:02:03`, `3d04h`; `--` when unknown or not finite.
    public static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0 else { return "--" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%d:%02d", s / 60, s % 60) }
        if s < 86_400 { return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) }
        return String(format: "%dd%02dh", s / 86_400, (s / 3600) % 24)
    }

    /// A rate with 3 significant digits: `31.2`, `2.45`, `0.413`, `1234`.
    public static func rate(_ v: Double) -> String {
        guard v.isFinite else { return "--" }
        if abs(v) >= 999.5 { return String(format: "%.0f", v) }
        return String(format: "%.3g", v)
    }
}
