import Foundation

/// Reads and writes zip archives whose members are stored uncompressed, which is what
/// numpy.savez writes (with zip64 extra fields, which the reader understands).
enum StoredZipArchive {
    static func members(of archive: Data) throws -> [(name: String, contents: Data)] {
        let bytes = [UInt8](archive)
        let directory = try CentralDirectory(bytes)
        var members: [(name: String, contents: Data)] = []
        var offset = directory.offset
        for _ in 0..<directory.entryCount {
            guard read32(bytes, offset) == 0x0201_4B50 else {
                throw NPZError.corruptArchive("central directory entry at byte \(offset) has a bad signature")
            }
            let method = read16(bytes, offset + 10)
            let crc = read32(bytes, offset + 16)
            var compressedSize = UInt64(read32(bytes, offset + 20))
            var size = UInt64(read32(bytes, offset + 24))
            let nameLength = Int(read16(bytes, offset + 28)), extraLength = Int(read16(bytes, offset + 30))
            let commentLength = Int(read16(bytes, offset + 32))
            var localOffset = UInt64(read32(bytes, offset + 42))
            guard offset + 46 + nameLength + extraLength <= bytes.count else {
                throw NPZError.corruptArchive("central directory runs past the end of the file")
            }
            let name = String(decoding: bytes[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self)
            guard method == 0 else { throw NPZError.compressedMember(name: name, method: method) }
            // A zip64 extra field carries, in this order, each 32-bit field that is saturated (0xFFFFFFFF).
            var zip64Values = zip64ExtraValues(bytes, from: offset + 46 + nameLength, length: extraLength).makeIterator()
            if size == 0xFFFF_FFFF { size = zip64Values.next() ?? size }
            if compressedSize == 0xFFFF_FFFF { compressedSize = zip64Values.next() ?? compressedSize }
            if localOffset == 0xFFFF_FFFF { localOffset = zip64Values.next() ?? localOffset }
            guard compressedSize == size else {
                throw NPZError.corruptArchive("member '\(name)' is stored but its sizes differ (\(compressedSize) and \(size))")
            }
            members.append((name, try contents(of: bytes, localOffset: localOffset, size: size, crc: crc, name: name)))
            offset += 46 + nameLength + extraLength + commentLength
        }
        return members
    }

    static func archive(_ members: [(name: String, contents: Data)]) throws -> Data {
        var output = Data(), directory = Data()
        for (name, contents) in members {
            guard contents.count < 0xFFFF_FFFF, output.count < 0xFFFF_FFFF else { throw NPZError.tooLarge(member: name) }
            let nameBytes = Array(name.utf8)
            let crc = CRC32.checksum(contents)
            let localOffset = UInt32(output.count)
            // Version 2.0, no flags, stored, no timestamp.
            var common = Data()
            common.append16(20); common.append16(0); common.append16(0); common.append16(0); common.append16(0x21)
            common.append32(crc); common.append32(UInt32(contents.count)); common.append32(UInt32(contents.count))
            common.append16(UInt16(nameBytes.count)); common.append16(0)

            output.append32(0x0403_4B50)
            output.append(common)
            output.append(contentsOf: nameBytes)
            output.append(contents)

            directory.append32(0x0201_4B50)
            directory.append16(20)
            directory.append(common)
            directory.append16(0); directory.append16(0); directory.append16(0); directory.append32(0)
            directory.append32(localOffset)
            directory.append(contentsOf: nameBytes)
        }
        let directoryOffset = output.count
        output.append(directory)
        output.append32(0x0605_4B50)
        output.append16(0); output.append16(0)
        output.append16(UInt16(members.count)); output.append16(UInt16(members.count))
        output.append32(UInt32(directory.count)); output.append32(UInt32(directoryOffset))
        output.append16(0)
        return output
    }

    private static func zip64ExtraValues(_ bytes: [UInt8], from start: Int, length: Int) -> [UInt64] {
        var field = start
        while field + 4 <= start + length {
            let id = read16(bytes, field), size = Int(read16(bytes, field + 2))
            if id == 0x0001 {
                return stride(from: field + 4, to: field + 4 + size - 7, by: 8).map { read64(bytes, $0) }
            }
            field += 4 + size
        }
        return []
    }

    private static func contents(of bytes: [UInt8], localOffset: UInt64, size: UInt64, crc: UInt32, name: String) throws -> Data {
        // Compared as UInt64 first: an offset near UInt64.max would overflow `header + 30`.
        guard bytes.count >= 30, localOffset <= UInt64(bytes.count - 30), read32(bytes, Int(localOffset)) == 0x0403_4B50 else {
            throw NPZError.corruptArchive("member '\(name)' has no local header at byte \(localOffset)")
        }
        let header = Int(localOffset)
        let start = header + 30 + Int(read16(bytes, header + 26)) + Int(read16(bytes, header + 28))
        guard size <= UInt64(bytes.count), start + Int(size) <= bytes.count else {
            throw NPZError.corruptArchive("member '\(name)' runs past the end of the file (truncated?)")
        }
        let contents = Data(bytes[start..<(start + Int(size))])
        guard CRC32.checksum(contents) == crc else {
            throw NPZError.corruptArchive("member '\(name)' fails its CRC-32 check")
        }
        return contents
    }

    /// Where the central directory is and how many entries it has, from the (zip64) end records.
    private struct CentralDirectory {
        let offset: Int
        let entryCount: Int

        init(_ bytes: [UInt8]) throws {
            let earliest = max(0, bytes.count - 22 - 0xFFFF)
            guard bytes.count >= 22,
                  let end = stride(from: bytes.count - 22, through: earliest, by: -1).first(where: { read32(bytes, $0) == 0x0605_4B50 })
            else { throw NPZError.notAZipArchive("no end-of-central-directory record (truncated or not a zip)") }
            var entryCount = UInt64(read16(bytes, end + 10)), offset = UInt64(read32(bytes, end + 16))
            if entryCount == 0xFFFF || offset == 0xFFFF_FFFF {
                let locator = end - 20
                guard locator >= 0, read32(bytes, locator) == 0x0706_4B50 else {
                    throw NPZError.corruptArchive("zip64 end-of-central-directory locator is missing")
                }
                // Compared as UInt64 first: an offset near Int.max would overflow `record + 56`.
                let recordOffset = read64(bytes, locator + 8)
                guard bytes.count >= 56, recordOffset <= UInt64(bytes.count - 56),
                      case let record = Int(recordOffset), read32(bytes, record) == 0x0606_4B50 else {
                    throw NPZError.corruptArchive("zip64 end-of-central-directory record is missing")
                }
                entryCount = read64(bytes, record + 32)
                offset = read64(bytes, record + 48)
            }
            guard offset < UInt64(bytes.count), entryCount < UInt64(bytes.count) else {
                throw NPZError.corruptArchive("central directory lies outside the file")
            }
            self.offset = Int(offset)
            self.entryCount = Int(entryCount)
        }
    }
}

/// Little-endian field readers; an offset past the end reads as 0, which every caller rejects as a bad signature or size.
private func read16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
    guard offset >= 0, offset + 2 <= bytes.count else { return 0 }
    return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
}

private func read32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    guard offset >= 0, offset + 4 <= bytes.count else { return 0 }
    return UInt32(read16(bytes, offset)) | UInt32(read16(bytes, offset + 2)) << 16
}

private func read64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    guard offset >= 0, offset + 8 <= bytes.count else { return 0 }
    return UInt64(read32(bytes, offset)) | UInt64(read32(bytes, offset + 4)) << 32
}

private extension Data {
    mutating func append16(_ value: UInt16) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
    mutating func append32(_ value: UInt32) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
}
