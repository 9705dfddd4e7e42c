/// Identity of any value: a tensor (a view of its buffer), a sequence, or an optional.
struct Identity: ValueOperator, ShapePreserving {
    var viewsFirstInput: Bool { true }

    func run(values inputs: [Value?], into outputs: inout [Value?]) throws {
        outputs.append(inputs.optional(0))
    }
}
