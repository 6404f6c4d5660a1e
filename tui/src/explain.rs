//! A plain-words reading of a DBUG control string, shown beside the value the
//! server reports (the server validates and canonicalises; this only describes).

/// Describe each field of a control string such as `d,info:t,20:o,/tmp/trace`.
/// Returns one line per field; an empty string means tracing is off.
pub fn explain_dbug(control: &str) -> Vec<String> {
    let s = control.trim();
    let s = s.strip_prefix("-#").unwrap_or(s);
    if s.is_empty() {
        return vec!["tracing is off (empty control string)".to_string()];
    }
    let mut out = Vec::new();
    let (relative, body) = match s.chars().next() {
        Some(c @ ('+' | '-')) => (Some(c), &s[1..]),
        _ => (None, s),
    };
    if let Some(c) = relative {
        out.push(format!(
            "relative string: {} the flags below {} the current settings",
            if c == '+' { "adds" } else { "removes" },
            if c == '+' { "to" } else { "from" }
        ));
    }
    for field in body.split(':').filter(|f| !f.is_empty()) {
        let mut parts = field.splitn(2, ',');
        let flag = parts.next().unwrap_or("");
        let list = parts.next().filter(|l| !l.is_empty());
        let list_or = |all: &str| list.map(|l| l.replace(',', ", ")).unwrap_or(all.into());
        let line = match flag {
            "d" => format!("print lines for keywords: {}", list_or("all")),
            "D" => format!("delay after each line: {} tenths of a second", list_or("0")),
            "f" => format!("limit to functions: {}", list_or("all")),
            "F" => "show source file names".to_string(),
            "i" => "show the process/thread id".to_string(),
            "g" => format!("profile functions: {}", list_or("all")),
            "L" => "show source line numbers".to_string(),
            "n" => "show the nesting depth".to_string(),
            "N" => "number each output line".to_string(),
            "o" => format!("write to file {} (truncate)", list_or("stderr")),
            "O" => format!(
                "write to file {} (truncate, flush every line)",
                list_or("stderr")
            ),
            "a" => format!("append to file {}", list_or("stderr")),
            "A" => format!("append to file {} (flush every line)", list_or("stderr")),
            "p" => format!("limit to processes: {}", list_or("all")),
            "P" => "show the process name".to_string(),
            "r" => "reset nesting depth at this level".to_string(),
            "S" => "check memory at each function (safemalloc)".to_string(),
            "t" => format!(
                "trace function calls and returns, max depth {}",
                list_or("default")
            ),
            "T" => "show timestamps".to_string(),
            other => format!("unknown flag {other:?}"),
        };
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_common_strings() {
        assert_eq!(
            explain_dbug("d,info,query:t:o,/tmp/x"),
            vec![
                "print lines for keywords: info, query",
                "trace function calls and returns, max depth default",
                "write to file /tmp/x (truncate)",
            ]
        );
        assert_eq!(
            explain_dbug(""),
            vec!["tracing is off (empty control string)"]
        );
        assert!(explain_dbug("+d,info")[0].starts_with("relative string: adds"));
        assert_eq!(explain_dbug("z")[0], "unknown flag \"z\"");
    }
}
