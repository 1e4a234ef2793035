//! Text from outside (branch and tag names, crate names and versions, hook and cargo output,
//! registry messages) made inert for each format it is written in: the step summary's
//! Markdown, GitHub's workflow commands, the human log lines a CI's log viewer reads, the
//! dotenv file. Pure functions; the reporter calls them after masking, so a secret's forms
//! are found before anything is escaped.

/// Plain text inside a line of GitHub-flavoured Markdown (a paragraph or a table cell): every
/// character that can open inline syntax is backslash-escaped (the `CommonMark` spec: any ASCII
/// punctuation may be; GFM: `\|` inside a table cell), and line breaks become `<br>`, so no
/// text can end the line, the cell or the table, open a code span, link, image, emphasis,
/// strikethrough, math, autolink or HTML, or name an entity.
pub(crate) fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '<' | '>' | '|' | '~' | '&' | '!'
            | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A code span holding `text` verbatim, for a table cell: fenced with one backtick more than
/// the longest run inside (`CommonMark` code spans), padded when it starts or ends with a
/// backtick or a space; `|` escaped as GFM tables require even inside code; line breaks and
/// other control characters shown as spaces.
pub(crate) fn markdown_code_in_table(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with(['`', ' ']) || text.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// The data of a GitHub workflow command (`::error::data`), as actions/toolkit's
/// `escapeData` (packages/core/src/command.ts) and the runner's unescaping
/// (src/Runner.Worker/ActionCommand.cs, `_escapeDataMappings`): `%`, CR and LF.
pub(crate) fn workflow_command_data(message: &str) -> String {
    message
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A human log line: control characters that would redraw the line or change the colours
/// (CR, ESC, …) shown as `\r`, `\e`, `\xNN`. On GitHub also no workflow command: the runner
/// reads a line whose first non-blank characters are `::` as one (`TryParseV2`), and
/// `##[name]` anywhere in a line (`TryParse`), on stdout and stderr alike
/// (actions/runner src/Runner.Worker/ActionCommand.cs, ActionCommandManager.cs
/// `TryProcessCommand`); `##[` is broken as `## [` and a leading `::` as `: :`.
pub(crate) fn log_text(text: &str, github: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' => out.push_str("\\r"),
            '\x1b' => out.push_str("\\e"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    if !github {
        return out;
    }
    out.replace("##[", "## [")
        .split('\n')
        .map(|line| {
            let blank = line.len() - line.trim_start().len();
            if line[blank..].starts_with("::") {
                format!("{}: :{}", &line[..blank], &line[blank + 2..])
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A value on one line of a dotenv file (GitLab's `artifacts:reports:dotenv` takes no
/// multi-line values: each line is `KEY=value`): line breaks and other control characters
/// become spaces.
pub(crate) fn dotenv_value(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_text_escapes_every_inline_opener_and_line_break() {
        assert_eq!(
            markdown_text("a`b <b>x</b> [l](u) |c| *d* _e_ ~f~ &amp; $m$ \\\nnext\r\nlast"),
            "a\\`b \\<b\\>x\\</b\\> \\[l\\]\\(u\\) \\|c\\| \\*d\\* \\_e\\_ \\~f\\~ \\&amp; \\$m\\$ \\\\<br>next<br>last"
        );
        assert_eq!(markdown_text("release-1.2.3+build"), "release-1.2.3+build");
    }

    #[test]
    fn a_code_span_is_fenced_longer_than_any_backtick_run_inside() {
        assert_eq!(markdown_code_in_table("serde"), "`serde`");
        assert_eq!(markdown_code_in_table("a``b"), "```a``b```");
        assert_eq!(markdown_code_in_table("`a"), "`` `a ``");
        assert_eq!(markdown_code_in_table("a|b\nc"), "`a\\|b c`");
    }

    #[test]
    fn log_lines_hold_no_workflow_command_and_no_terminal_control() {
        let hostile = "x ##[error]fake\n  ::error::fake\n::stop-commands::t\rgone\x1b[2K";
        assert_eq!(
            log_text(hostile, true),
            "x ## [error]fake\n  : :error::fake\n: :stop-commands::t\\rgone\\e[2K"
        );
        assert_eq!(
            log_text(hostile, false),
            "x ##[error]fake\n  ::error::fake\n::stop-commands::t\\rgone\\e[2K"
        );
    }

    #[test]
    fn workflow_command_data_and_dotenv_values_stay_on_their_line() {
        assert_eq!(
            workflow_command_data("50%\r\n::error::x"),
            "50%25%0D%0A::error::x"
        );
        assert_eq!(dotenv_value("a\nB=1\rc"), "a B=1 c");
    }
}
