//! Errors for rule authors: file:line:column, the rule id, a plain sentence.

use std::fmt;

/// One problem in one rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub file: String,
    /// 1-based; 0 when the problem is with the file as a whole.
    pub line: usize,
    pub column: usize,
    /// The id of the rule the problem is in, when there is one.
    pub rule: Option<String>,
    pub message: String,
    /// The line the problem is on, shown under the message with a caret
    /// at `column` (not in [`RuleError::headline`], which logs use).
    pub source_line: Option<String>,
}

impl RuleError {
    /// Builds an error at byte offset `offset` of `text`.
    pub fn at(
        file: &str,
        text: &str,
        offset: usize,
        rule: Option<&str>,
        message: String,
    ) -> RuleError {
        let (line, column) = line_column(text, offset);
        RuleError {
            file: file.to_owned(),
            line,
            column,
            rule: rule.map(str::to_owned),
            message,
            source_line: text.lines().nth(line - 1).map(str::to_owned),
        }
    }

    /// An error about the file as a whole (it cannot be read, say).
    pub fn whole_file(file: &str, message: String) -> RuleError {
        RuleError {
            file: file.to_owned(),
            line: 0,
            column: 0,
            rule: None,
            message,
            source_line: None,
        }
    }

    /// The line the problem is on and a caret under its column, indented,
    /// for a person reading `logredact check`; the caret is placed by
    /// display width, so it sits under the right character after Chinese
    /// text (two columns a character) too.
    pub fn excerpt(&self) -> Option<String> {
        use unicode_width::UnicodeWidthStr;
        let line = self.source_line.as_deref()?.replace('\t', " ");
        let before: String = line.chars().take(self.column.saturating_sub(1)).collect();
        let pad = " ".repeat(before.width());
        Some(format!("    {line}\n    {pad}^"))
    }
}

/// Problems (or warnings, with `label` "warning: ") as `logredact check`
/// shows them: each on its line, its source line and a caret under it.
pub fn render(problems: &[RuleError], label: &str) -> String {
    let mut out = String::new();
    for p in problems {
        out.push_str(label);
        out.push_str(&p.to_string());
        out.push('\n');
        if let Some(excerpt) = p.excerpt() {
            out.push_str(&excerpt);
            out.push('\n');
        }
    }
    out
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary_compat(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

impl RuleError {
    /// Where the problem is and what kind it is, without any text the
    /// author wrote: for logs, which must not echo rule text (authors
    /// write PII-like digits into patterns and examples). The message is
    /// cut at its first `: `, where details such as a regex error (which
    /// quotes the pattern) begin. `logredact check` shows the whole.
    pub fn headline(&self) -> String {
        let mut line = String::new();
        let kind = self.message.split(": ").next().unwrap_or_default();
        self.write_with(&mut line, kind)
            .expect("writing to a String cannot fail");
        line
    }

    /// `file:line:column: rule "id": ` and then `message`.
    fn write_with(&self, out: &mut impl fmt::Write, message: &str) -> fmt::Result {
        if self.line == 0 {
            write!(out, "{}: ", self.file)?;
        } else {
            write!(out, "{}:{}:{}: ", self.file, self.line, self.column)?;
        }
        if let Some(rule) = &self.rule {
            write!(out, "rule \"{rule}\": ")?;
        }
        out.write_str(message)
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_with(f, &self.message)
    }
}

/// Every problem found in a rule set, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleErrors(pub Vec<RuleError>);

impl fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(&self.0, ""))?;
        let files: std::collections::BTreeSet<&str> =
            self.0.iter().map(|e| e.file.as_str()).collect();
        write!(
            f,
            "{} problem{} in {} file{}; nothing was changed. Fix them and run the command again.",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" },
        )
    }
}

impl std::error::Error for RuleErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caret_sits_under_the_character_after_chinese_text() {
        let text = "version = 1\n# 规则\ndescription = \"手机号\"，x\n";
        let offset = text.find('，').unwrap();
        let e = RuleError::at("r.toml", text, offset, None, "here".into());
        assert_eq!((e.line, e.column), (3, 20));
        // 16 one-column characters and three two-column ones before it.
        let caret = format!("    {}^", " ".repeat(16 + 3 * 2));
        assert_eq!(
            e.excerpt().unwrap(),
            format!("    description = \"手机号\"，x\n{caret}")
        );
    }

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "a = 1\n中文 = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 6 + "中文".len()), (2, 3));
    }
}
