import Foundation

/// One numpy .npy array: magic, version, a Python-dict header, then C-order little-endian elements.
enum NPYFormat {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    private static let descriptors: [(descr: [String], type: ElementType)] = [
        (["<f4"], .float32), (["<f2"], .float16), (["|i1", "<i1"], .int8), (["|u1", "<u1"], .uint8),
        (["<i4"], .int32), (["<i8"], .int64), (["|b1", "<b1"], .bool), (["<f8"], .float64), (["<i2"], .int16),
        (["<u2"], .uint16), (["<u4"], .uint32), (["<u8"], .uint64),
    ]

    static func decode(_ data: Data, member: String) throws -> Tensor {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw NPZError.invalidArray(member: member, reason: "missing the \\x93NUMPY magic")
        }
        let major = bytes[6]
        let headerStart = major == 1 ? 10 : 12
        guard major == 1 || major == 2 || major == 3, bytes.count >= headerStart else {
            throw NPZError.invalidArray(member: member, reason: "unsupported .npy version \(major).\(bytes[7])")
        }
        let headerLength = major == 1
            ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard headerStart + headerLength <= bytes.count else {
            throw NPZError.invalidArray(member: member, reason: "header runs past the end of the data")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let descr = try field("descr", in: header, member: member).trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        let textWidth = descr.hasPrefix("<U") ? Int(descr.dropFirst(2)) : nil
        guard let type = textWidth != nil ? .string : descriptors.first(where: { $0.descr.contains(descr) })?.type else {
            throw NPZError.unsupportedDataType(member: member, descr: descr)
        }
        guard try field("fortran_order", in: header, member: member) == "False" else {
            throw NPZError.invalidArray(member: member, reason: "Fortran-order arrays are not supported")
        }
        let shape = try parseShape(try field("shape", in: header, member: member), member: member)
        let payload = headerStart + headerLength
        let available = bytes.count - payload
        // Every element takes at least one byte (a string of width w takes 4 w): a count past the
        // bytes there are is refused before it is multiplied, so no product can overflow.
        guard let count = StaticShapes.elementCount(shape), count <= available else {
            throw NPZError.invalidArray(member: member, reason: "shape \(shape) holds more elements than its \(available) bytes of data")
        }
        if let textWidth {
            guard textWidth >= 1, textWidth <= available else {
                throw NPZError.invalidArray(member: member, reason: "string width \(descr) is outside 1 to the data's \(available) bytes")
            }
            let (needed, overflow) = count.multipliedReportingOverflow(by: textWidth * 4)
            guard !overflow, available == needed else {
                throw NPZError.invalidArray(member: member, reason: "shape \(shape) of \(descr) needs \(count) × \(textWidth * 4) bytes, found \(available)")
            }
            return Tensor(shape: shape, strings: (0..<count).map { Self.text(bytes, at: payload + $0 * textWidth * 4, width: textWidth) })
        }
        guard available == type.packedByteCount(count) else {
            throw NPZError.invalidArray(
                member: member, reason: "shape \(shape) of \(descr) needs \(type.packedByteCount(count)) bytes, found \(available)")
        }
        let storage = bytes[payload...].withUnsafeBytes { TensorStorage(type: type, littleEndianBytes: $0, count: count) }
        return Tensor(shape: shape, storage: storage)
    }

    static func encode(_ tensor: Tensor) -> Data {
        // numpy has no 4- or 2-bit type: such elements are written one per byte.
        let storage = switch tensor.storage {
        case .int4(let values), .int2(let values): TensorStorage.int8(values)
        case .uint4(let values), .uint2(let values): TensorStorage.uint8(values)
        // numpy has no bfloat16, float8 or float4 either: written as float32, exactly.
        case .bfloat16(let values), .smallFloat(_, let values): TensorStorage.float32(values)
        default: tensor.storage
        }
        let texts = tensor.strings
        let textWidth = max(1, texts?.map { $0.unicodeScalars.count }.max() ?? 1)
        let descr = texts != nil ? "<U\(textWidth)" : descriptors.first { $0.type == storage.elementType }!.descr[0]
        let shape = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(\(tensor.shape.map(String.init).joined(separator: ", ")))"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        // numpy pads the header with spaces so the elements start on a 64-byte boundary.
        let unpadded = magic.count + 4 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(magic + [1, 0])
        data.append(UInt8(header.utf8.count & 0xFF))
        data.append(UInt8(header.utf8.count >> 8))
        data.append(contentsOf: Array(header.utf8))
        if let texts {
            // Fixed-width UTF-32, padded with NULs, as numpy stores str arrays.
            for text in texts {
                let scalars = text.unicodeScalars.map(\.value) + Array(repeating: 0, count: textWidth - text.unicodeScalars.count)
                scalars.withUnsafeBytes { data.append(contentsOf: $0) }
            }
        } else {
            data.append(storage.littleEndianBytes)
        }
        return data
    }

    /// One fixed-width UTF-32 element, its NUL padding dropped.
    private static func text(_ bytes: [UInt8], at offset: Int, width: Int) -> String {
        var scalars = String.UnicodeScalarView()
        for index in 0..<width {
            let start = offset + index * 4
            let value = UInt32(bytes[start]) | UInt32(bytes[start + 1]) << 8 | UInt32(bytes[start + 2]) << 16 | UInt32(bytes[start + 3]) << 24
            guard value != 0 else { break }
            scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
        }
        return String(scalars)
    }

    /// The raw text of `key`'s value in the header dict (a quoted string, a word or a tuple).
    private static func field(_ key: String, in header: String, member: String) throws -> String {
        guard let keyRange = header.range(of: "'\(key)':") else {
            throw NPZError.invalidArray(member: member, reason: "header has no '\(key)': \(header)")
        }
        let rest = header[keyRange.upperBound...].drop { $0 == " " }
        let end: String.Index? = if rest.first == "(" {
            rest.firstIndex(of: ")").map { rest.index(after: $0) }
        } else if let quote = rest.first, quote == "'" || quote == "\"" {
            rest.dropFirst().firstIndex(of: quote).map { rest.index(after: $0) }
        } else {
            rest.firstIndex { $0 == "," || $0 == "}" }
        }
        guard let end else { throw NPZError.invalidArray(member: member, reason: "cannot read '\(key)' in header \(header)") }
        return String(rest[..<end]).trimmingCharacters(in: .whitespaces)
    }

    private static func parseShape(_ text: String, member: String) throws -> [Int] {
        let inner = text.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
        return try inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { dim in
            guard let size = Int(dim), size >= 0 else {
                throw NPZError.invalidArray(member: member, reason: "bad dimension '\(dim)' in shape \(text)")
            }
            return size
        }
    }
}
