import CLeptonica

/// ImageDecoder: encoded image bytes (BMP, JPEG, JPEG 2000, PNG, PNM, TIFF or WebP) decoded to
/// uint8 [H, W, 3] in RGB or BGR order, or [H, W, 1] grayscale.
///
/// Leptonica decodes, with its libraries' default settings, which are also Pillow's (onnx's
/// reference): for JPEG that is libjpeg-turbo's accurate integer IDCT (JDCT_ISLOW) and its fancy
/// chroma upsampling, the method the schema prescribes. Any alpha channel is dropped, and a
/// grayscale or palette image comes out as RGB, so the channel count is always pixel_format's.
/// Where the schema asks for an empty result on undecodable bytes, this throws instead, naming
/// what was wrong: an empty tensor would surface as a confusing shape error nodes later.
struct ImageDecoder: SingleOutputOperator {
    enum PixelFormat: String, CaseIterable { case rgb = "RGB", bgr = "BGR", grayscale = "Grayscale" }

    let pixelFormat: PixelFormat

    init(_ context: OperatorContext) throws {
        pixelFormat = try context.attributes.choice("pixel_format", default: PixelFormat.rgb)
        Self.silenceLeptonica
    }

    /// Leptonica reports failures on stderr as well as by returning nil; the thrown error says it
    /// already, so the process-wide threshold is raised once, before the first decode.
    private static let silenceLeptonica: Void = { _ = setMsgSeverity(l_int32(L_SEVERITY_NONE)) }()

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let encoded = try inputs.required(0)
        guard case .uint8(let bytes) = encoded.storage, encoded.shape.count == 1 else {
            throw InferenceError.invalidOperand("ImageDecoder takes 1-D uint8 encoded bytes, got \(encoded.elementType.rawValue) \(encoded.shape)")
        }
        let format = try Self.formatName(of: bytes)
        guard let decoded = bytes.withUnsafeBufferPointer({ pixReadMem($0.baseAddress, $0.count) }) else {
            throw InferenceError.invalidOperand("ImageDecoder: the \(format) data is corrupt or truncated")
        }
        defer { Self.destroy(decoded) }
        // Every depth, palette and channel count becomes 32-bit RGB(A) words.
        guard let rgb = pixConvertTo32(decoded) else {
            throw InferenceError.invalidOperand("ImageDecoder: the decoded \(format) image has a pixel layout that cannot be read as RGB")
        }
        defer { Self.destroy(rgb) }
        return pixels(of: rgb)
    }

    private func pixels(of rgb: UnsafeMutablePointer<PIX>) -> Tensor {
        let width = Int(pixGetWidth(rgb)), height = Int(pixGetHeight(rgb)), wordsPerLine = Int(pixGetWpl(rgb))
        let words = pixGetData(rgb)!
        let channels = pixelFormat == .grayscale ? 1 : 3
        var pixels = [UInt8]()
        pixels.reserveCapacity(height * width * channels)
        for y in 0..<height {
            for x in 0..<width {
                // Leptonica keeps red in the most significant byte of each native-endian word.
                let word = words[y * wordsPerLine + x]
                let red = UInt8(truncatingIfNeeded: word >> 24), green = UInt8(truncatingIfNeeded: word >> 16), blue = UInt8(truncatingIfNeeded: word >> 8)
                switch pixelFormat {
                case .rgb: pixels.append(red); pixels.append(green); pixels.append(blue)
                case .bgr: pixels.append(blue); pixels.append(green); pixels.append(red)
                case .grayscale: pixels.append(Self.luma(red, green, blue))
                }
            }
        }
        return Tensor(shape: [height, width, channels], uint8s: pixels)
    }

    /// Pillow's RGB to "L" conversion (ITU-R 601-2 luma in 16-bit fixed point, rounded), which
    /// onnx's reference applies to the decoded RGB image; a gray source maps back to itself.
    private static func luma(_ red: UInt8, _ green: UInt8, _ blue: UInt8) -> UInt8 {
        let weighted: UInt32 = UInt32(red) * 19595 + UInt32(green) * 38470 + UInt32(blue) * 7471
        return UInt8((weighted + 0x8000) >> 16)
    }

    /// The format the bytes' signature names, for the error messages; anything outside the
    /// schema's list is refused before decoding.
    private static func formatName(of bytes: [UInt8]) throws -> String {
        // Leptonica's sniffer reads 12 bytes whatever the buffer's length.
        let signatureLength = 12
        guard bytes.count >= signatureLength else {
            throw InferenceError.invalidOperand("ImageDecoder: \(bytes.count) bytes are too few to hold an image")
        }
        var format: l_int32 = 0
        _ = bytes.withUnsafeBufferPointer { findFileFormatBuffer($0.baseAddress, &format) }
        switch Int(format) {
        case IFF_BMP: return "BMP"
        case IFF_JFIF_JPEG: return "JPEG"
        case IFF_JP2: return "JPEG 2000"
        case IFF_PNG: return "PNG"
        case IFF_PNM: return "PNM"
        case IFF_TIFF, IFF_TIFF_PACKBITS, IFF_TIFF_RLE, IFF_TIFF_G3, IFF_TIFF_G4, IFF_TIFF_LZW, IFF_TIFF_ZIP, IFF_TIFF_JPEG: return "TIFF"
        case IFF_WEBP: return "WebP"
        default:
            throw InferenceError.invalidOperand("ImageDecoder: the bytes are not a BMP, JPEG, JPEG 2000, PNG, PNM, TIFF or WebP image")
        }
    }

    /// Leptonica's destructor takes the address of the caller's pointer, which it clears.
    private static func destroy(_ pix: UnsafeMutablePointer<PIX>) {
        var owned: UnsafeMutablePointer<PIX>? = pix
        pixDestroy(&owned)
    }
}
