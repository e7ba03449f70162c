// A row of labelled small images: input | attention | generated | composite.

/// A small image: planar channels (`channels * height * width` values in 0...1,
/// channel-major like NCHW without N). One channel is grey, three are RGB.
public struct StripImage: Sendable, Equatable {
    public var label: String
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [Float]
    /// A short figure drawn right of the label when there is room (a display range).
    public var note: String

    public init(label: String, width: Int, height: Int, channels: Int, pixels: [Float], note: String = "") {
        self.label = label
        self.note = note
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Sizes positive, one or three channels, and the pixel count matching.
    public var isValid: Bool {
        width > 0 && height > 0 && (channels == 1 || channels == 3) && pixels.count == channels * width * height
    }

    /// Channel `c` as a plane (a grey image repeats its one plane).
    func plane(_ c: Int) -> ArraySlice<Float> {
        let n = width * height
        let k = channels == 1 ? 0 : c
        return pixels[(k * n)..<((k + 1) * n)]
    }
}

/// Labelled images side by side.
public enum ImageStrip {
    /// Columns between two images.
    public static let gap = 2

    /// Draws `images` in equal slots across `rect`: the label on the first row (and the
    /// note at the right of the image when both fit), the image fitted below it
    /// (left-aligned in its slot). Half-blocks give two pixels per cell; ASCII shows the
    /// luminance with the ramp ` .:-=+*#%@`.
    public static func draw(_ images: [StripImage], rendering: MapRendering = .halfBlock, theme: Theme,
                            into canvas: inout Canvas, in rect: Rect) {
        let rect = rect.intersection(canvas.bounds)
        guard !rect.isEmpty, !images.isEmpty else { return }
        let n = images.count
        let slotWidth = (rect.width - gap * (n - 1)) / n
        guard slotWidth >= 1 else { return }
        for (i, image) in images.enumerated() {
            let slot = Rect(x: rect.x + i * (slotWidth + gap), y: rect.y, width: slotWidth, height: rect.height)
            canvas.put(truncated(image.label, to: slotWidth), x: slot.x, y: slot.y,
                       style: theme.style(.graphText), clip: slot)
            let area = Rect(x: slot.x, y: slot.y + 1, width: slot.width, height: slot.height - 1)
            guard !area.isEmpty else { continue }
            guard image.isValid else {
                canvas.put(truncated("no image", to: area.width), x: area.x, y: area.y,
                           style: theme.style(.inactiveFg), clip: area)
                continue
            }
            let drawn = drawImage(image, rendering: rendering, into: &canvas, in: area)
            let noteWidth = columnWidth(image.note)
            if noteWidth > 0, columnWidth(image.label) + 1 + noteWidth <= slotWidth {
                let right = slot.x + max(drawn.width, columnWidth(image.label) + 1 + noteWidth)
                canvas.put(image.note, x: right - noteWidth, y: slot.y, style: theme.style(.inactiveFg), clip: slot)
            }
        }
    }

    /// Draws one image fitted into `rect` at its top left and returns the rectangle drawn.
    @discardableResult
    public static func drawImage(_ image: StripImage, rendering: MapRendering,
                                 into canvas: inout Canvas, in rect: Rect) -> Rect {
        guard image.isValid else { return Rect(x: rect.x, y: rect.y, width: 0, height: 0) }
        let size = Raster.fittedSize(imageWidth: image.width, imageHeight: image.height,
                                     maxColumns: rect.width, maxRows: rect.height)
        let area = Rect(x: rect.x, y: rect.y, width: size.width, height: size.height)
        guard !area.isEmpty else { return area }
        let rowsOfPixels = rendering == .halfBlock ? area.height * 2 : area.height
        // A grey image resamples its one plane once.
        let distinct = image.channels == 1 ? 1 : 3
        let resampled = (0..<distinct).map {
            Raster.resample(Array(image.plane($0)), width: image.width, height: image.height,
                            toWidth: area.width, toHeight: rowsOfPixels)
        }
        let planes = distinct == 1 ? [resampled[0], resampled[0], resampled[0]] : resampled
        func byte(_ v: Float) -> UInt8 { UInt8((min(max(v.isNaN ? 0 : v, 0), 1) * 255).rounded()) }
        func color(_ i: Int) -> Color { .rgb(byte(planes[0][i]), byte(planes[1][i]), byte(planes[2][i])) }
        for r in 0..<area.height {
            for c in 0..<area.width {
                switch rendering {
                case .halfBlock:
                    let upper = (2 * r) * area.width + c, lower = upper + area.width
                    canvas.set("▀", x: area.x + c, y: area.y + r, style: Style(fg: color(upper), bg: color(lower)))
                case .ascii:
                    let i = r * area.width + c
                    let luminance = 0.299 * planes[0][i] + 0.587 * planes[1][i] + 0.114 * planes[2][i]
                    canvas.set(HeatMap.rampCharacter(luminance), x: area.x + c, y: area.y + r, style: Style(fg: color(i)))
                }
            }
        }
        canvas.images.append(CanvasImage(rect: area, width: image.width, height: image.height,
                                         rgb: rgbBytes(image)))
        return area
    }

    /// The image's pixels as RGB bytes (a grey image repeats its level).
    static func rgbBytes(_ image: StripImage) -> [UInt8] {
        let n = image.width * image.height
        var out = [UInt8](repeating: 0, count: 3 * n)
        image.pixels.withUnsafeBufferPointer { p in
            for c in 0..<3 {
                let base = (image.channels == 1 ? 0 : c) * n
                for i in 0..<n {
                    let v = p[base + i]
                    out[3 * i + c] = UInt8((min(max(v.isNaN ? 0 : v, 0), 1) * 255).rounded())
                }
            }
        }
        return out
    }
}
