//! `--batch`: one snapshot of one view as aligned text or TSV, no colours.

use crate::explain::explain_dbug;
use crate::model::{Avail, Binding, Snapshot};
use crate::options::View;

/// Output format of batch mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Columns aligned with spaces; notes inline as `# ...` lines.
    Text,
    /// Tab-separated values with a header row (MySQL `--batch` escaping); notes separate.
    Tsv,
}

/// A rendered batch view: the body for stdout and notes about what the server lacks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchOutput {
    /// Table text.
    pub body: String,
    /// Notes (`... not available on this server`). In text format they are also in `body`.
    pub notes: Vec<String>,
}

fn tsv_escape(v: &str) -> String {
    let mut o = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\t' => o.push_str("\\t"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\\' => o.push_str("\\\\"),
            '\0' => o.push_str("\\0"),
            c => o.push(c),
        }
    }
    o
}

fn one_line(v: &str) -> String {
    v.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Lay a table out in the given format.
pub fn format_table(columns: &[&str], rows: &[Vec<String>], format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Tsv => {
            out.push_str(&columns.join("\t"));
            out.push('\n');
            for r in rows {
                let cells: Vec<String> = r.iter().map(|c| tsv_escape(c)).collect();
                out.push_str(&cells.join("\t"));
                out.push('\n');
            }
        }
        Format::Text => {
            let rows: Vec<Vec<String>> = rows
                .iter()
                .map(|r| r.iter().map(|c| one_line(c)).collect())
                .collect();
            let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
            for r in &rows {
                for (i, c) in r.iter().enumerate() {
                    if let Some(w) = widths.get_mut(i) {
                        *w = (*w).max(c.chars().count());
                    }
                }
            }
            let mut line = |cells: &mut dyn Iterator<Item = &str>| {
                let mut l = String::new();
                for (i, c) in cells.enumerate() {
                    if i > 0 {
                        l.push_str("  ");
                    }
                    l.push_str(c);
                    let pad = widths
                        .get(i)
                        .copied()
                        .unwrap_or(0)
                        .saturating_sub(c.chars().count());
                    l.extend(std::iter::repeat_n(' ', pad));
                }
                out.push_str(l.trim_end());
                out.push('\n');
            };
            line(&mut columns.iter().copied());
            for r in &rows {
                line(&mut r.iter().map(String::as_str));
            }
        }
    }
    out
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "NULL".to_string())
}

/// Sum a plugin's bindings over its extension points.
pub fn plugin_totals<'a>(bindings: &'a [Binding], plugin: &str) -> Vec<&'a Binding> {
    bindings
        .iter()
        .filter(|b| b.plugin.eq_ignore_ascii_case(plugin))
        .collect()
}

/// Render one view of a snapshot.
pub fn render(view: View, snap: &Snapshot, format: Format) -> BatchOutput {
    let mut notes = Vec::new();
    let (columns, rows): (Vec<&str>, Vec<Vec<String>>) = match view {
        View::Processlist => {
            notes.extend(snap.processlist_note.clone());
            let mut procs: Vec<_> = snap.processlist.iter().collect();
            procs.sort_by_key(|p| p.id);
            (
                vec![
                    "Id", "User", "Host", "db", "Command", "Time", "State", "Info",
                ],
                procs
                    .iter()
                    .map(|p| {
                        vec![
                            p.id.to_string(),
                            p.user.clone(),
                            p.host.clone(),
                            opt(&p.db),
                            p.command.clone(),
                            p.time.to_string(),
                            opt(&p.state),
                            opt(&p.info),
                        ]
                    })
                    .collect(),
            )
        }
        View::Status => {
            notes.extend(snap.status_note.clone());
            let uptime = snap.header.uptime.filter(|u| *u > 0);
            if uptime.is_none() {
                notes.push("Uptime not reported: no per-second averages".to_string());
            }
            (
                vec!["Variable_name", "Value", "Avg_per_sec"],
                snap.status
                    .vars
                    .iter()
                    .map(|v| {
                        let avg = match (v.number, v.gauge, uptime) {
                            (Some(n), false, Some(u)) => format!("{:.2}", n / u as f64),
                            _ => String::new(),
                        };
                        vec![v.name.clone(), v.value.clone(), avg]
                    })
                    .collect(),
            )
        }
        View::Variables => match &snap.variables {
            Avail::Yes(v) => (
                vec!["Variable_name", "Value"],
                v.vars
                    .iter()
                    .map(|(n, v)| vec![n.clone(), v.clone()])
                    .collect(),
            ),
            Avail::Missing(why) => {
                notes.push(why.clone());
                (vec!["Variable_name", "Value"], vec![])
            }
            Avail::NotFetched => {
                notes.push("variables were not fetched".to_string());
                (vec!["Variable_name", "Value"], vec![])
            }
        },
        View::Debug => {
            let var = snap.variables.get().and_then(|v| v.debug_variable());
            match var {
                Some((name, value)) => {
                    let mut rows = vec![vec![name.to_string(), value.to_string(), String::new()]];
                    for line in explain_dbug(value) {
                        rows.push(vec![String::new(), String::new(), line]);
                    }
                    (vec!["Variable_name", "Value", "Meaning"], rows)
                }
                None => {
                    notes.push(
                        "debug: not available on this server (no @@debug or @@debug_dbug variable: \
                         a release build of MariaDB/MySQL has no DBUG)"
                            .to_string(),
                    );
                    (vec!["Variable_name", "Value", "Meaning"], vec![])
                }
            }
        }
        View::Plugins => {
            let p = &snap.plugins;
            for a in [
                match &p.details {
                    Avail::Missing(w) => Some(w),
                    _ => None,
                },
                match &p.bindings {
                    Avail::Missing(w) => Some(w),
                    _ => None,
                },
                match &p.sessions {
                    Avail::Missing(w) => Some(w),
                    _ => None,
                },
            ]
            .into_iter()
            .flatten()
            {
                notes.push(a.clone());
            }
            let bindings = p.bindings.get().map(|b| b.as_slice());
            let rows = match &p.plugins {
                Avail::Yes(list) => list
                    .iter()
                    .map(|pl| {
                        let mut r = vec![
                            pl.name.clone(),
                            pl.status.clone(),
                            pl.kind.clone(),
                            opt(&pl.library),
                            pl.license.clone(),
                            pl.version.clone().unwrap_or_default(),
                        ];
                        match bindings {
                            Some(all) => {
                                let bs = plugin_totals(all, &pl.name);
                                let points: Vec<&str> =
                                    bs.iter().map(|b| b.extension_point.as_str()).collect();
                                let calls: u64 = bs.iter().map(|b| b.calls).sum();
                                let errors: u64 = bs.iter().map(|b| b.errors).sum();
                                let time: u64 = bs.iter().map(|b| b.total_time_us).sum();
                                let bound: u64 = bs.iter().map(|b| b.bound_sessions).sum();
                                r.push(points.join(","));
                                r.push(calls.to_string());
                                r.push(errors.to_string());
                                r.push(if calls > 0 {
                                    format!("{:.1}", time as f64 / calls as f64)
                                } else {
                                    String::new()
                                });
                                r.push(bound.to_string());
                            }
                            None => r.extend(std::iter::repeat_n(String::new(), 5)),
                        }
                        r
                    })
                    .collect(),
                Avail::Missing(w) => {
                    notes.insert(0, w.clone());
                    vec![]
                }
                Avail::NotFetched => vec![],
            };
            (
                vec![
                    "Name",
                    "Status",
                    "Type",
                    "Library",
                    "License",
                    "Version",
                    "Extension_points",
                    "Calls",
                    "Errors",
                    "Time_per_call_us",
                    "Bound_sessions",
                ],
                rows,
            )
        }
    };
    let mut body = String::new();
    if format == Format::Text {
        for n in &notes {
            body.push_str("# ");
            body.push_str(n);
            body.push('\n');
        }
    }
    body.push_str(&format_table(&columns, &rows, format));
    BatchOutput { body, notes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_aligns_and_tsv_escapes() {
        let rows = vec![
            vec!["1".to_string(), "a\tb".to_string()],
            vec!["22".to_string(), "x\ny".to_string()],
        ];
        assert_eq!(
            format_table(&["Id", "Value"], &rows, Format::Text),
            "Id  Value\n1   a b\n22  x y\n"
        );
        assert_eq!(
            format_table(&["Id", "Value"], &rows, Format::Tsv),
            "Id\tValue\n1\ta\\tb\n22\tx\\ny\n"
        );
    }
}
