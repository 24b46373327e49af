/// How `tessera plan` and `tessera apply` print a plan.
extension Plan {
    /// Object by object, field by field, with `+` added, `~` changed, `-` removed, and breaking changes marked.
    public func rendered(color: Bool = false) -> String {
        if isEmpty { return "No changes. The registry matches the definitions." }
        func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var lines: [String] = []
        for change in changes {
            let symbol: String
            let code: String
            switch change.action {
            case .add: (symbol, code) = ("+", "32")
            case .change: (symbol, code) = ("~", "33")
            case .remove: (symbol, code) = ("-", "31")
            }
            var header = paint("\(symbol) \(change.id.kind.label) \(change.id.name)", code)
            if !change.breaking.isEmpty { header += paint("  [BREAKING]", "1;31") }
            lines.append(header)
            for field in change.fields {
                switch (field.old, field.new) {
                case (nil, let new?): lines.append(paint("    + \(field.path): \(new)", "32"))
                case (let old?, nil): lines.append(paint("    - \(field.path): \(old)", "31"))
                case (let old?, let new?): lines.append(paint("    ~ \(field.path): \(old) -> \(new)", "33"))
                case (nil, nil): break
                }
            }
            for reason in change.breaking {
                lines.append(paint("    ! breaking: \(reason)", "1;31"))
            }
        }
        lines.append("")
        var summary = "Plan: \(count(.add)) to add, \(count(.change)) to change, \(count(.remove)) to remove."
        let breaking = changes.filter { !$0.breaking.isEmpty }.count
        if breaking > 0 {
            summary +=
                " "
                + paint(
                    "\(breaking) breaking change\(breaking == 1 ? "" : "s"): `apply` needs --allow-breaking.", "1;31")
        }
        lines.append(summary)
        return lines.joined(separator: "\n")
    }
}
