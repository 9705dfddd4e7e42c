/// Problems reading or writing numpy .npy / .npz files.
public enum NPZError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case notAZipArchive(String)
    case corruptArchive(String)
    case compressedMember(name: String, method: UInt16)
    case invalidArray(member: String, reason: String)
    case unsupportedDataType(member: String, descr: String)
    case tooLarge(member: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            "cannot read \(path): \(reason)"
        case let .notAZipArchive(reason):
            "not an .npz (zip) archive: \(reason)"
        case let .corruptArchive(reason):
            "corrupt .npz archive: \(reason)"
        case let .compressedMember(name, method):
            "member '\(name)' is compressed (zip method \(method)); only stored members are supported, write the file with numpy.savez, not numpy.savez_compressed"
        case let .invalidArray(member, reason):
            "member '\(member)' is not a valid .npy array: \(reason)"
        case let .unsupportedDataType(member, descr):
            "member '\(member)' has dtype '\(descr)'; supported: <f4 <f2 |i1 |u1 <i4 <i8 |b1 (little-endian, C order)"
        case let .tooLarge(member):
            "member '\(member)' is 4 GiB or larger, which the writer does not support"
        }
    }
}
