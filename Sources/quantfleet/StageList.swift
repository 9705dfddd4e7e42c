import ArgumentParser

/// `--stages 5,25,100`: percentages of the target, one per stage (the coordinator checks the order).
enum StageList {
    static func parse(_ text: String) throws -> [Int] {
        try text.split(separator: ",").map { item in
            guard let percent = Int(item.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--stages \(text): '\(item)' is not a whole percentage")
            }
            return percent
        }
    }
}
