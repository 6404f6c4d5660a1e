//! Rendering: `impl Widget for &App`. Nothing here mutates the state; rows are
//! filtered and sorted by `App::recompute`, and only the visible slice is drawn.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, Clear, Paragraph, Row, Sparkline, Table, TableState, Widget, Wrap,
};

use crate::app::{App, ConnState, Mode, ProcColumn, PromptKind, fmt_delay};
use crate::explain::explain_dbug;
use crate::model::{Avail, Binding};
use crate::options::View;

/// The text of a buffer, one line per row, trailing spaces removed (for snapshots).
pub fn buffer_text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        for x in area.left()..area.right() {
            if let Some(c) = buf.cell((x, y)) {
                line.push_str(c.symbol());
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Human uptime: `3d 04:05:06`.
pub fn fmt_uptime(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// Compact rate: `12.3`, `4.56k`.
pub fn fmt_rate(r: f64) -> String {
    if r >= 1_000_000.0 {
        format!("{:.2}M", r / 1_000_000.0)
    } else if r >= 10_000.0 {
        format!("{:.1}k", r / 1000.0)
    } else if r >= 100.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.2}")
    }
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Scroll offset that keeps `selected` visible in `height` rows.
fn offset(selected: usize, height: usize) -> usize {
    if height == 0 || selected < height {
        0
    } else {
        selected + 1 - height
    }
}

impl App {
    fn st(&self, style: Style) -> Style {
        if self.color {
            style
        } else {
            Style {
                fg: None,
                bg: None,
                ..style
            }
        }
    }

    fn render_header(&self, area: Rect, buf: &mut Buffer) {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let mut l1 = vec![Span::styled(" minnow-top ", self.st(bold.fg(Color::Cyan)))];
        let mut l2 = Vec::new();
        match &self.snapshot {
            Some(s) => {
                let h = &s.header;
                l1.push(Span::raw(format!(" {}  {}", h.target, h.version)));
                if let Some(u) = h.uptime {
                    l1.push(Span::raw(format!("  up {}", fmt_uptime(u))));
                }
                let opt = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or("?".into());
                let q = |v: Option<f64>| v.map(fmt_rate).unwrap_or("-".into());
                l2.push(Span::raw(format!(
                    " Threads: {} connected, {} running   Connections: {}   QPS: {} now, {} avg",
                    opt(h.threads_connected),
                    opt(h.threads_running),
                    opt(h.connections),
                    q(h.qps_now),
                    q(h.qps_avg)
                )));
            }
            None => l2.push(Span::raw(" connecting...")),
        }
        l1.push(Span::raw(format!("   refresh {}", fmt_delay(self.delay))));
        if self.paused {
            l1.push(Span::styled(
                "  [PAUSED]",
                self.st(bold.fg(Color::Yellow).add_modifier(Modifier::REVERSED)),
            ));
        }
        if let ConnState::Lost { error, attempts } = &self.conn {
            l2 = vec![Span::styled(
                format!(
                    " CONNECTION LOST: {error} - reconnecting every {} (attempt {attempts})",
                    fmt_delay(self.delay)
                ),
                self.st(bold.fg(Color::White).bg(Color::Red)),
            )];
        }
        let mut tabs = Vec::new();
        for (i, v) in View::ALL.iter().enumerate() {
            let label = format!(" {} {} ", i + 1, v.title());
            if *v == self.view {
                tabs.push(Span::styled(
                    label,
                    self.st(bold.add_modifier(Modifier::REVERSED).fg(Color::Cyan)),
                ));
            } else {
                tabs.push(Span::raw(label));
            }
            tabs.push(Span::raw("|"));
        }
        tabs.pop();
        Paragraph::new(vec![Line::from(l1), Line::from(l2), Line::from(tabs)]).render(area, buf);
    }

    fn render_footer(&self, area: Rect, buf: &mut Buffer) {
        let line = match &self.mode {
            Mode::Prompt { kind, buffer } => {
                let label = match kind {
                    PromptKind::ProcFilter => "filter (user:X host:X db:X regex)".to_string(),
                    PromptKind::StatusFilter | PromptKind::VarFilter => "filter".to_string(),
                    PromptKind::EditVariable(n) => format!("SET GLOBAL {n} ="),
                    PromptKind::EditDebug(n) => format!("SET GLOBAL {n} ="),
                    PromptKind::Delay => "refresh every (seconds)".to_string(),
                };
                Line::from(vec![
                    Span::styled(
                        format!(" {label} "),
                        Style::new().add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(format!("{buffer}_")),
                    Span::raw("   (Enter apply, Esc cancel)"),
                ])
            }
            Mode::Confirm {
                id,
                query_only,
                summary,
            } => Line::from(Span::styled(
                format!(
                    " Kill {} {id} ({})? y/n",
                    if *query_only {
                        "query of thread"
                    } else {
                        "connection"
                    },
                    one_line(summary)
                ),
                self.st(Style::new()
                    .add_modifier(Modifier::BOLD)
                    .fg(Color::Black)
                    .bg(Color::Yellow)),
            )),
            _ => match &self.message {
                Some(m) if m.error => Line::from(Span::styled(
                    format!(" {}", one_line(&m.text)),
                    self.st(Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)),
                )),
                Some(m) => Line::from(format!(" {}", one_line(&m.text))),
                None => {
                    Line::from(" ? help  q quit  1-5/Tab views  p pause  +/- refresh  / filter")
                }
            },
        };
        Paragraph::new(line).render(area, buf);
    }

    fn note(&self, text: &str) -> Line<'static> {
        Line::from(Span::styled(
            format!(" {}", one_line(text)),
            self.st(Style::new()
                .fg(Color::Yellow)
                .add_modifier(Modifier::ITALIC)),
        ))
    }

    fn table_styles(&self) -> (Style, Style) {
        (
            self.st(Style::new().add_modifier(Modifier::BOLD).fg(Color::Cyan)),
            self.st(Style::new().add_modifier(Modifier::REVERSED)),
        )
    }

    fn render_processlist(&self, area: Rect, buf: &mut Buffer) {
        let Some(snap) = &self.snapshot else { return };
        let detail_h = if self.proc.detail { 9 } else { 0 };
        let [info, table_area, detail] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(detail_h),
        ])
        .areas(area);
        let p = &self.proc;
        let mut desc = format!(
            " {} of {} threads  sort: {} {}",
            p.rows.len(),
            snap.processlist.len(),
            p.sort.title(),
            if p.descending { "desc" } else { "asc" }
        );
        if p.hide_idle {
            desc.push_str("  idle hidden");
        }
        if !p.filter_text.is_empty() {
            desc.push_str(&format!("  filter: {}", p.filter_text));
        }
        Paragraph::new(desc).render(info, buf);

        let (head_style, sel_style) = self.table_styles();
        let header = Row::new(ProcColumn::ALL.iter().map(|c| {
            let mut t = c.title().to_string();
            if *c == p.sort {
                t.push(if p.descending { '▼' } else { '▲' });
            }
            Cell::from(t)
        }))
        .style(head_style);
        let height = table_area.height.saturating_sub(1) as usize;
        let off = offset(p.selected, height);
        // Indices come from App::recompute; `get` keeps a stale index harmless.
        let visible = p.rows.iter().skip(off).take(height);
        let rows = visible.filter_map(|&i| snap.processlist.get(i)).map(|r| {
            Row::new(vec![
                Cell::from(r.id.to_string()),
                Cell::from(r.user.clone()),
                Cell::from(r.host.clone()),
                Cell::from(r.db.clone().unwrap_or_default()),
                Cell::from(r.command.clone()),
                Cell::from(r.time.to_string()),
                Cell::from(one_line(r.state.as_deref().unwrap_or(""))),
                Cell::from(one_line(r.info.as_deref().unwrap_or(""))),
            ])
        });
        let widths = [
            Constraint::Length(7),
            Constraint::Length(10),
            Constraint::Length(18),
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(14),
            Constraint::Fill(1),
        ];
        let table = Table::new(rows, widths)
            .header(header)
            .row_highlight_style(sel_style)
            .highlight_symbol(">");
        let mut state = TableState::default()
            .with_selected((!p.rows.is_empty()).then(|| p.selected.saturating_sub(off)));
        ratatui::widgets::StatefulWidget::render(table, table_area, buf, &mut state);
        if p.rows.is_empty() {
            let note = snap
                .processlist_note
                .as_ref()
                .map(|n| format!(" {}", one_line(n)));
            let msg = if let Some(n) = &note {
                n.as_str()
            } else if snap.processlist.is_empty() {
                " no threads visible to this user"
            } else {
                " no thread matches the filter"
            };
            Paragraph::new(msg).render(
                Rect {
                    y: table_area
                        .y
                        .saturating_add(1)
                        .min(table_area.bottom().saturating_sub(1)),
                    height: 1,
                    ..table_area
                },
                buf,
            );
        }

        if self.proc.detail {
            let mut lines = Vec::new();
            match self.selected_process() {
                Some(r) => {
                    lines.push(Line::from(format!(
                        "Thread {}  {}@{}  db {}  {} for {}s  state: {}",
                        r.id,
                        r.user,
                        r.host,
                        r.db.as_deref().unwrap_or("-"),
                        r.command,
                        r.time,
                        r.state.as_deref().unwrap_or("-")
                    )));
                    match &snap.plugins.sessions {
                        Avail::Yes(s) => {
                            let held: Vec<String> = s
                                .iter()
                                .filter(|b| b.session_id == r.id)
                                .map(|b| format!("{} ({})", b.plugin, b.extension_point))
                                .collect();
                            lines.push(Line::from(format!(
                                "Plugins held: {}",
                                if held.is_empty() {
                                    "none".to_string()
                                } else {
                                    held.join(", ")
                                }
                            )));
                        }
                        Avail::Missing(w) => lines.push(self.note(&format!("Plugins held: {w}"))),
                        Avail::NotFetched => {}
                    }
                    match &r.info {
                        Some(info) => lines.extend(info.lines().map(|l| Line::from(l.to_string()))),
                        None => lines.push(Line::from("(no statement)")),
                    }
                }
                None => lines.push(Line::from("no thread selected")),
            }
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(
                    Block::new()
                        .borders(Borders::TOP)
                        .title(" Detail (Enter closes) "),
                )
                .render(detail, buf);
        }
    }

    fn render_plugins(&self, area: Rect, buf: &mut Buffer) {
        let Some(snap) = &self.snapshot else { return };
        let p = &snap.plugins;
        let mut notes = Vec::new();
        for a in [&p.details, &p.bindings.as_unit(), &p.sessions.as_unit()] {
            if let Avail::Missing(w) = a {
                notes.push(self.note(w));
            }
        }
        let list = match &p.plugins {
            Avail::Yes(l) => l,
            Avail::Missing(w) => {
                notes.insert(0, self.note(w));
                Paragraph::new(notes).render(area, buf);
                return;
            }
            Avail::NotFetched => {
                Paragraph::new(" loading plugins...").render(area, buf);
                return;
            }
        };
        let [notes_area, table_area, detail] = Layout::vertical([
            Constraint::Length(notes.len() as u16),
            Constraint::Min(3),
            Constraint::Length(8),
        ])
        .areas(area);
        Paragraph::new(notes).render(notes_area, buf);
        let bindings = p.bindings.get().map(|b| b.as_slice());
        let (head_style, sel_style) = self.table_styles();
        let header = Row::new([
            "Name", "Status", "Type", "Library", "Version", "Calls/s", "Errors", "us/call", "Bound",
        ])
        .style(head_style);
        let height = table_area.height.saturating_sub(1) as usize;
        let off = offset(self.plugins.selected, height);
        let dash = || "-".to_string();
        let rows = list.iter().skip(off).take(height).map(|pl| {
            let (rate, errors, per_call, bound) = match bindings {
                Some(all) => {
                    let bs: Vec<&Binding> = all
                        .iter()
                        .filter(|b| b.plugin.eq_ignore_ascii_case(&pl.name))
                        .collect();
                    let rate: Option<f64> =
                        bs.iter().filter_map(|b| b.calls_rate).reduce(|a, b| a + b);
                    let calls: u64 = bs.iter().map(|b| b.calls).sum();
                    let time: u64 = bs.iter().map(|b| b.total_time_us).sum();
                    (
                        rate.map(fmt_rate).unwrap_or_else(dash),
                        bs.iter().map(|b| b.errors).sum::<u64>().to_string(),
                        if calls > 0 {
                            format!("{:.1}", time as f64 / calls as f64)
                        } else {
                            dash()
                        },
                        bs.iter().map(|b| b.bound_sessions).sum::<u64>().to_string(),
                    )
                }
                None => (dash(), dash(), dash(), dash()),
            };
            Row::new(vec![
                pl.name.clone(),
                pl.status.clone(),
                pl.kind.clone(),
                pl.library.clone().unwrap_or_else(|| "built-in".into()),
                pl.version.clone().unwrap_or_default(),
                rate,
                errors,
                per_call,
                bound,
            ])
        });
        let widths = [
            Constraint::Length(24),
            Constraint::Length(9),
            Constraint::Length(18),
            Constraint::Length(16),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Length(8),
            Constraint::Length(6),
        ];
        let table = Table::new(rows, widths)
            .header(header)
            .row_highlight_style(sel_style)
            .highlight_symbol(">");
        let mut state = TableState::default()
            .with_selected((!list.is_empty()).then(|| self.plugins.selected.saturating_sub(off)));
        ratatui::widgets::StatefulWidget::render(table, table_area, buf, &mut state);

        let mut lines = Vec::new();
        if let Some(pl) = list.get(self.plugins.selected) {
            lines.push(Line::from(format!(
                "{}  {}  license {}  {}",
                pl.name,
                pl.kind,
                pl.license,
                pl.author
                    .as_deref()
                    .map(|a| format!("by {a}"))
                    .unwrap_or_default()
            )));
            if let Some(d) = &pl.description {
                lines.push(Line::from(one_line(d)));
            }
            match bindings {
                Some(all) => {
                    let bs: Vec<&Binding> = all
                        .iter()
                        .filter(|b| b.plugin.eq_ignore_ascii_case(&pl.name))
                        .collect();
                    if bs.is_empty() {
                        lines.push(Line::from("no extension points bound"));
                    }
                    for b in bs {
                        lines.push(Line::from(format!(
                            "  {:<18} calls {:>8}  {:>8}/s  errors {:>5}  {:>8} us/call  max {} us  sessions {}",
                            b.extension_point,
                            b.calls,
                            b.calls_rate.map(fmt_rate).unwrap_or_else(dash),
                            b.errors,
                            b.time_per_call_us.map(|t| format!("{t:.1}")).unwrap_or_else(dash),
                            b.max_time_us,
                            b.bound_sessions
                        )));
                    }
                }
                None => lines.push(self.note("extension points: not available on this server")),
            }
            if let Avail::Yes(sessions) = &p.sessions {
                let ids: Vec<String> = sessions
                    .iter()
                    .filter(|s| s.plugin.eq_ignore_ascii_case(&pl.name))
                    .map(|s| s.session_id.to_string())
                    .collect();
                lines.push(Line::from(format!(
                    "held by sessions: {}",
                    if ids.is_empty() {
                        "none".into()
                    } else {
                        ids.join(", ")
                    }
                )));
            }
        }
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::new().borders(Borders::TOP).title(" Plugin "))
            .render(detail, buf);
    }

    fn render_status(&self, area: Rect, buf: &mut Buffer) {
        let Some(snap) = &self.snapshot else { return };
        let [info, table_area, spark] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(6),
        ])
        .areas(area);
        let mut desc = format!(
            " {} of {} status variables  (rates per second over the last {:.1}s; gauges are not differenced)",
            self.status.rows.len(),
            snap.status.vars.len(),
            snap.elapsed_secs
        );
        if !self.status.filter.is_empty() {
            desc = format!("{desc}  filter: {}", self.status.filter);
        }
        if let Some(n) = &snap.status_note {
            desc = format!(" {}", one_line(n));
        }
        Paragraph::new(desc).render(info, buf);
        let (head_style, sel_style) = self.table_styles();
        let header = Row::new(["Variable_name", "Value", "Per second"]).style(head_style);
        let height = table_area.height.saturating_sub(1) as usize;
        let off = offset(self.status.selected, height);
        let visible = self.status.rows.iter().skip(off).take(height);
        let rows = visible.filter_map(|&i| snap.status.vars.get(i)).map(|v| {
            let rate = if v.gauge {
                "(gauge)".to_string()
            } else {
                v.rate.map(fmt_rate).unwrap_or_default()
            };
            Row::new(vec![v.name.clone(), one_line(&v.value), rate])
        });
        let table = Table::new(
            rows,
            [
                Constraint::Length(44),
                Constraint::Length(24),
                Constraint::Fill(1),
            ],
        )
        .header(header)
        .row_highlight_style(sel_style)
        .highlight_symbol(">");
        let mut state = TableState::default().with_selected(
            (!self.status.rows.is_empty()).then(|| self.status.selected.saturating_sub(off)),
        );
        ratatui::widgets::StatefulWidget::render(table, table_area, buf, &mut state);

        let selected = self
            .status
            .rows
            .get(self.status.selected)
            .and_then(|&i| snap.status.vars.get(i));
        let block = Block::new().borders(Borders::TOP);
        let Some(v) = selected else { return };
        match self.history.get(&v.name).filter(|h| !h.is_empty()) {
            Some(h) => {
                let max = h.iter().copied().fold(0.0f64, f64::max);
                let scale = if max > 0.0 { 1000.0 / max } else { 0.0 };
                let data: Vec<u64> = h
                    .iter()
                    .map(|x| (x.max(0.0) * scale).round() as u64)
                    .collect();
                let what = if v.gauge { "value" } else { "per second" };
                let title = format!(
                    " {} {what}, last {} samples, max {} ",
                    v.name,
                    h.len(),
                    fmt_rate(max)
                );
                let start = data.len().saturating_sub(spark.width as usize);
                Sparkline::default()
                    .block(block.title(title))
                    .data(&data[start..])
                    .max(1000)
                    .style(self.st(Style::new().fg(Color::Green)))
                    .render(spark, buf);
            }
            None => {
                Paragraph::new(" no numeric history for this variable yet")
                    .block(block.title(format!(" {} ", v.name)))
                    .render(spark, buf);
            }
        }
    }

    fn render_variables(&self, area: Rect, buf: &mut Buffer) {
        let Some(snap) = &self.snapshot else { return };
        let vars = match &snap.variables {
            Avail::Yes(v) => v,
            Avail::Missing(w) => {
                Paragraph::new(self.note(w)).render(area, buf);
                return;
            }
            Avail::NotFetched => {
                Paragraph::new(" loading variables...").render(area, buf);
                return;
            }
        };
        let [info, table_area, full] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(4),
        ])
        .areas(area);
        let mut desc = format!(
            " {} of {} variables   e/Enter: SET GLOBAL (the server checks it)",
            self.variables.rows.len(),
            vars.vars.len()
        );
        if !self.variables.filter.is_empty() {
            desc = format!("{desc}  filter: {}", self.variables.filter);
        }
        Paragraph::new(desc).render(info, buf);
        let (head_style, sel_style) = self.table_styles();
        let height = table_area.height.saturating_sub(1) as usize;
        let off = offset(self.variables.selected, height);
        let visible = self.variables.rows.iter().skip(off).take(height);
        let rows = visible
            .filter_map(|&i| vars.vars.get(i))
            .map(|(n, v)| Row::new(vec![n.clone(), one_line(v)]));
        let table = Table::new(rows, [Constraint::Length(44), Constraint::Fill(1)])
            .header(Row::new(["Variable_name", "Value"]).style(head_style))
            .row_highlight_style(sel_style)
            .highlight_symbol(">");
        let mut state = TableState::default().with_selected(
            (!self.variables.rows.is_empty()).then(|| self.variables.selected.saturating_sub(off)),
        );
        ratatui::widgets::StatefulWidget::render(table, table_area, buf, &mut state);
        if let Some((n, v)) = self
            .variables
            .rows
            .get(self.variables.selected)
            .and_then(|&i| vars.vars.get(i))
        {
            Paragraph::new(v.clone())
                .wrap(Wrap { trim: false })
                .block(Block::new().borders(Borders::TOP).title(format!(" {n} ")))
                .render(full, buf);
        }
    }

    fn render_debug(&self, area: Rect, buf: &mut Buffer) {
        let Some(snap) = &self.snapshot else { return };
        let mut lines = Vec::new();
        match &snap.variables {
            Avail::Yes(vars) => match vars.debug_variable() {
                Some((name, value)) => {
                    lines.push(Line::from(format!(
                        " DBUG control variable: @@global.{name}"
                    )));
                    lines.push(Line::from(format!(
                        " Current value (as the server reports it): {value:?}"
                    )));
                    lines.push(Line::from(""));
                    lines.push(Line::from(" What is traced:"));
                    for l in explain_dbug(value) {
                        lines.push(Line::from(format!("   - {l}")));
                    }
                    lines.push(Line::from(""));
                    lines.push(Line::from(
                        " e/Enter: edit (SET GLOBAL; the server validates the string)",
                    ));
                }
                None => {
                    lines.push(self.note(
                        "DBUG is not available on this server: it has no @@debug or @@debug_dbug \
                         variable (release builds of MariaDB and MySQL are compiled without DBUG).",
                    ));
                }
            },
            Avail::Missing(w) => lines.push(self.note(w)),
            Avail::NotFetched => lines.push(Line::from(" loading variables...")),
        }
        if let Some(c) = &self.debug_change {
            lines.push(Line::from(""));
            lines.push(Line::from(format!(" Last change: {:?}", c.requested)));
            match &c.result {
                Ok(()) => lines.push(Line::from(
                    " accepted by the server; the value above is what it now uses",
                )),
                Err(e) => lines.push(Line::from(Span::styled(
                    format!(" refused by the server: {}", one_line(e)),
                    self.st(Style::new().fg(Color::Red)),
                ))),
            }
        }
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }

    fn render_help(&self, area: Rect, buf: &mut Buffer) {
        let text = [
            "Keys (any key closes this help)",
            "",
            "1-5, Tab, Shift-Tab   views: processlist, plugins, status, variables, debug",
            "j/k, Up/Down, g/G     move; PgUp/PgDn page",
            "p or Space            pause / resume refreshing",
            "+ / -, s              refresh slower / faster / every N s;  R  now",
            "q, Ctrl-C             quit",
            "",
            "Processlist:  < >  sort column   r  reverse   i  hide/show idle",
            "              /  filter: user:NAME host:TEXT db:NAME REGEX   Esc clear",
            "              Enter  detail pane with full query",
            "              x  kill query   K  kill connection  (asks y/n)",
            "Status:       /  filter; the sparkline follows the selected variable",
            "Variables:    /  filter   e/Enter  SET GLOBAL the selected variable",
            "Debug:        e/Enter  set the global DBUG control string",
        ];
        let w = (text.iter().map(|l| l.len()).max().unwrap_or(0) as u16 + 4).min(area.width);
        let h = (text.len() as u16 + 2).min(area.height);
        let r = Rect {
            x: area.x + (area.width - w) / 2,
            y: area.y + (area.height - h) / 2,
            width: w,
            height: h,
        };
        Clear.render(r, buf);
        Paragraph::new(text.iter().map(|l| Line::from(*l)).collect::<Vec<_>>())
            .block(Block::bordered().title(" Help "))
            .render(r, buf);
    }
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let [header, body, footer] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .areas(area);
        self.render_header(header, buf);
        if self.snapshot.is_none() {
            let msg = match &self.conn {
                ConnState::Lost { error, .. } => format!(" cannot reach the server: {error}"),
                _ => " waiting for the first snapshot...".to_string(),
            };
            Paragraph::new(msg).render(body, buf);
        } else {
            match self.view {
                View::Processlist => self.render_processlist(body, buf),
                View::Plugins => self.render_plugins(body, buf),
                View::Status => self.render_status(body, buf),
                View::Variables => self.render_variables(body, buf),
                View::Debug => self.render_debug(body, buf),
            }
        }
        self.render_footer(footer, buf);
        if self.mode == Mode::Help {
            self.render_help(area, buf);
        }
    }
}
