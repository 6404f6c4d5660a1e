//! DBUG wiring, in one module: `--debug`, `SET [GLOBAL|SESSION] debug`,
//! `SELECT @@debug`, and fault-injection keywords.
//!
//! SEAM: the `dbug` crate (branch `dbug`) is being written in parallel. Until
//! it is merged, this module keeps the control strings itself, validates them
//! with the subset of the DBUG grammar below, and answers `execute_if` from the
//! `d` keyword list. The statement path already emits `tracing` spans and
//! events in MySQL's vocabulary; wiring `dbug::Layer` replaces the bodies of
//! [`set_global`], [`set_session`] and [`keyword_enabled`] only.

use std::sync::RwLock;

use crate::error::SqlError;

/// The control string bare `--debug` uses (mysqld's default).
pub const DEFAULT_DEBUG: &str = "d:t:o,/tmp/minnowd.trace";

static GLOBAL: RwLock<String> = RwLock::new(String::new());

/// Checks a control string; the error says what is wrong (for 1231).
pub fn validate(s: &str) -> Result<(), String> {
    let body = s.trim();
    let body = body.strip_prefix(['+', '-']).unwrap_or(body);
    if body.is_empty() {
        return Ok(());
    }
    for field in body.split(':') {
        let field = field.strip_prefix(['+', '-']).unwrap_or(field);
        let mut chars = field.chars();
        let flag = chars.next().ok_or("empty field")?;
        let rest: String = chars.collect();
        match flag {
            'd' | 'f' | 'p' | 'g' | 'n' | 'N' | 'P' | 'r' | 't' | 'T' | 'i' | 'L' | 'F' | 'S'
            | 'A' | 'a' | 'o' | 'O' => {}
            other => return Err(format!("unknown flag '{other}'")),
        }
        if !rest.is_empty() && !rest.starts_with(',') {
            return Err(format!("field '{field}': expected ',' after '{flag}'"));
        }
        if matches!(
            flag,
            't' | 'n' | 'N' | 'T' | 'i' | 'L' | 'F' | 'S' | 'r' | 'P'
        ) && flag == 't'
        {
            let n = rest.trim_start_matches(',');
            if !n.is_empty() && n.parse::<u32>().is_err() {
                return Err(format!("field 't': '{n}' is not a number"));
            }
        }
    }
    Ok(())
}

/// Sets the global control string (`--debug`, `SET GLOBAL debug`).
/// Returns the new value or 1231 and leaves the state unchanged.
pub fn set_global(s: &str) -> Result<String, SqlError> {
    validate(s).map_err(|_| SqlError::wrong_value("debug", s))?;
    let new = merge(&global(), s);
    if let Ok(mut g) = GLOBAL.write() {
        g.clone_from(&new);
    }
    Ok(new)
}

/// Computes a session's new control string from its current one.
pub fn set_session(current: &str, s: &str) -> Result<String, SqlError> {
    validate(s).map_err(|_| SqlError::wrong_value("debug", s))?;
    Ok(merge(current, s))
}

/// The global control string.
pub fn global() -> String {
    GLOBAL.read().map(|g| g.clone()).unwrap_or_default()
}

/// `+x` appends to the current string, `-x` removes keywords; otherwise replaces.
fn merge(current: &str, s: &str) -> String {
    let s = s.trim();
    if let Some(add) = s.strip_prefix('+') {
        if current.is_empty() {
            add.to_string()
        } else {
            format!("{current}:{add}")
        }
    } else if let Some(del) = s.strip_prefix('-') {
        let drop: Vec<&str> = del
            .strip_prefix("d,")
            .map(|k| k.split(',').collect())
            .unwrap_or_default();
        current
            .split(':')
            .map(|f| {
                if let Some(k) = f.strip_prefix("d,") {
                    let kept: Vec<&str> = k.split(',').filter(|x| !drop.contains(x)).collect();
                    format!("d,{}", kept.join(","))
                } else {
                    f.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(":")
    } else {
        s.to_string()
    }
}

/// Whether fault-injection keyword `kw` is enabled in a control string
/// (`dbug_execute_if` semantics: listed explicitly in `d,…`).
pub fn keyword_enabled(control: &str, kw: &str) -> bool {
    control.split(':').any(|f| {
        let f = f.trim_start_matches(['+', '-']);
        f.strip_prefix("d,")
            .is_some_and(|k| k.split(',').any(|x| x == kw))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_strings() {
        assert!(validate("d:t:o,/tmp/x").is_ok());
        assert!(validate("+d,info").is_ok());
        assert!(validate("d,a,b:t,20").is_ok());
        assert!(validate("z,1").is_err());
        assert!(validate("dfoo").is_err());
        assert!(validate("t,abc").is_err());
        assert_eq!(merge("d,a:t", "+d,b"), "d,a:t:d,b");
        assert_eq!(merge("d,a,b:t", "-d,a"), "d,b:t");
        assert!(keyword_enabled("t:d,crash_x,y", "crash_x"));
        assert!(!keyword_enabled("d", "crash_x"));
    }
}
