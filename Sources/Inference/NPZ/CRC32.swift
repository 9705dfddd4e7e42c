import Foundation

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zip archives record it. Eight bytes a
/// step through eight tables ("slicing by 8"), over the raw bytes: a byte at a time through Data's
/// iterator, checking a 55 MB batch took longer than the model's runs.
enum CRC32 {
    /// tables[k][b]: the CRC of byte b followed by k zero bytes.
    private static let tables: [[UInt32]] = {
        let first: [UInt32] = (0..<256).map { (index: Int) -> UInt32 in
            (0..<8).reduce(UInt32(index)) { (crc: UInt32, _: Int) -> UInt32 in crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        var tables = [first]
        for _ in 1..<8 {
            let previous = tables[tables.count - 1]
            tables.append(previous.map { (crc: UInt32) -> UInt32 in (crc >> 8) ^ first[Int(crc & 0xFF)] })
        }
        return tables
    }()

    static func checksum(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { checksum($0) }
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let t = tables
        var crc = ~UInt32(0), index = 0
        while index + 8 <= bytes.count {
            let low = crc ^ bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian
            let high = bytes.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self).littleEndian
            let fromLow: UInt32 = t[7][Int(low & 0xFF)] ^ t[6][Int((low >> 8) & 0xFF)] ^ t[5][Int((low >> 16) & 0xFF)] ^ t[4][Int(low >> 24)]
            let fromHigh: UInt32 = t[3][Int(high & 0xFF)] ^ t[2][Int((high >> 8) & 0xFF)] ^ t[1][Int((high >> 16) & 0xFF)] ^ t[0][Int(high >> 24)]
            crc = fromLow ^ fromHigh
            index += 8
        }
        for byte in bytes[index...] {
            crc = t[0][Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return ~crc
    }
}
