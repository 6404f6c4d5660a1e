//! The console's state and its `update` function. No I/O happens here: `update`
//! turns an [`Event`] into state changes and [`Command`]s that the event loop
//! (`term`) carries out against the server, feeding results back through
//! [`App::on_refresh`] and [`App::on_command_result`].

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use regex::{Regex, RegexBuilder};

use crate::error::Error;
use crate::model::{Avail, Needs, ProcessRow, Snapshot};
use crate::options::View;

/// All input, merged into one enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A key press.
    Key(KeyEvent),
    /// The terminal was resized (the next draw adapts).
    Resize,
}

impl Event {
    /// A plain key press (helper for tests and scripts).
    pub fn char(c: char) -> Event {
        Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    }

    /// A key press from a key code.
    pub fn code(code: KeyCode) -> Event {
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }
}

/// Work for the event loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Fetch a snapshot now.
    Refresh,
    /// `KILL QUERY id` or `KILL CONNECTION id`.
    Kill {
        /// Thread id.
        id: u64,
        /// Only the running statement.
        query_only: bool,
    },
    /// `SET GLOBAL name = value` (value already rendered as SQL).
    SetGlobal {
        /// Variable name.
        name: String,
        /// Value as typed by the user.
        value: String,
    },
    /// Leave the program.
    Quit,
}

/// Processlist columns (sort keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcColumn {
    /// Thread id.
    Id,
    /// User.
    User,
    /// Host.
    Host,
    /// Database.
    Db,
    /// Command.
    Command,
    /// Time in state.
    Time,
    /// State.
    State,
    /// Statement.
    Info,
}

impl ProcColumn {
    /// Left to right.
    pub const ALL: [ProcColumn; 8] = [
        ProcColumn::Id,
        ProcColumn::User,
        ProcColumn::Host,
        ProcColumn::Db,
        ProcColumn::Command,
        ProcColumn::Time,
        ProcColumn::State,
        ProcColumn::Info,
    ];

    /// Header text.
    pub fn title(self) -> &'static str {
        match self {
            ProcColumn::Id => "Id",
            ProcColumn::User => "User",
            ProcColumn::Host => "Host",
            ProcColumn::Db => "db",
            ProcColumn::Command => "Command",
            ProcColumn::Time => "Time",
            ProcColumn::State => "State",
            ProcColumn::Info => "Info",
        }
    }

    fn index(self) -> usize {
        ProcColumn::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

/// A parsed processlist filter: `user:NAME host:TEXT db:NAME` plus an optional
/// regular expression (the remaining words) matched against every column.
#[derive(Debug, Clone, Default)]
pub struct ProcFilter {
    /// Substring of the user (case-insensitive).
    pub user: Option<String>,
    /// Substring of the host.
    pub host: Option<String>,
    /// Substring of the database.
    pub db: Option<String>,
    /// Case-insensitive regex over user, host, db, command, state and info.
    pub regex: Option<Regex>,
}

impl ProcFilter {
    /// Parse the filter syntax; a bad regular expression is an error message.
    pub fn parse(text: &str) -> Result<ProcFilter, String> {
        let mut f = ProcFilter::default();
        let mut rest = Vec::new();
        for word in text.split_whitespace() {
            if let Some(v) = word.strip_prefix("user:") {
                f.user = Some(v.to_lowercase());
            } else if let Some(v) = word.strip_prefix("host:") {
                f.host = Some(v.to_lowercase());
            } else if let Some(v) = word.strip_prefix("db:") {
                f.db = Some(v.to_lowercase());
            } else {
                rest.push(word);
            }
        }
        if !rest.is_empty() {
            let pattern = rest.join(" ");
            f.regex = Some(
                RegexBuilder::new(&pattern)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("bad regular expression {pattern:?}: {e}"))?,
            );
        }
        Ok(f)
    }

    /// Does the row pass?
    pub fn matches(&self, p: &ProcessRow) -> bool {
        let has = |hay: &str, needle: &Option<String>| {
            needle
                .as_ref()
                .is_none_or(|n| hay.to_lowercase().contains(n.as_str()))
        };
        if !has(&p.user, &self.user)
            || !has(&p.host, &self.host)
            || !has(p.db.as_deref().unwrap_or(""), &self.db)
        {
            return false;
        }
        match &self.regex {
            None => true,
            Some(r) => [
                Some(p.user.as_str()),
                Some(p.host.as_str()),
                p.db.as_deref(),
                Some(p.command.as_str()),
                p.state.as_deref(),
                p.info.as_deref(),
            ]
            .into_iter()
            .flatten()
            .any(|s| r.is_match(s)),
        }
    }
}

/// What a text prompt is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    /// Processlist filter.
    ProcFilter,
    /// Status filter.
    StatusFilter,
    /// Variables filter.
    VarFilter,
    /// New value for a global variable.
    EditVariable(String),
    /// New DBUG control string for the named variable.
    EditDebug(String),
    /// Refresh interval in seconds.
    Delay,
}

/// Input modes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mode {
    /// Keys act on the view.
    #[default]
    Normal,
    /// The `?` overlay.
    Help,
    /// A one-line text prompt.
    Prompt {
        /// What for.
        kind: PromptKind,
        /// Text typed so far.
        buffer: String,
    },
    /// A yes/no question before a kill.
    Confirm {
        /// Thread id.
        id: u64,
        /// Kill only the query.
        query_only: bool,
        /// What the thread runs, for the question.
        summary: String,
    },
}

/// The connection as the user should see it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ConnState {
    /// No snapshot yet.
    #[default]
    Connecting,
    /// The last refresh worked.
    Up,
    /// The last refresh failed because the connection is gone.
    Lost {
        /// What happened.
        error: String,
        /// Failed attempts since it was lost.
        attempts: u32,
    },
}

/// A line for the bottom bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Text.
    pub text: String,
    /// Shown as an error.
    pub error: bool,
}

/// A scrollable, filterable list position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListState {
    /// Filter text (substring, case-insensitive).
    pub filter: String,
    /// Selected position among the visible rows.
    pub selected: usize,
    /// Indices of the visible rows in the snapshot.
    pub rows: Vec<usize>,
}

impl ListState {
    fn clamp(&mut self) {
        if self.selected >= self.rows.len() {
            self.selected = self.rows.len().saturating_sub(1);
        }
    }
}

/// Processlist view state.
#[derive(Debug, Clone)]
pub struct ProcState {
    /// Sort column.
    pub sort: ProcColumn,
    /// Descending order.
    pub descending: bool,
    /// Hide idle threads.
    pub hide_idle: bool,
    /// Filter text as typed.
    pub filter_text: String,
    /// Parsed filter.
    pub filter: ProcFilter,
    /// Selected thread id (the selection follows the thread across refreshes).
    pub selected_id: Option<u64>,
    /// Selected position among visible rows.
    pub selected: usize,
    /// Show the detail pane.
    pub detail: bool,
    /// Indices into the snapshot's processlist, filtered and sorted.
    pub rows: Vec<usize>,
}

impl Default for ProcState {
    fn default() -> Self {
        ProcState {
            sort: ProcColumn::Time,
            descending: true,
            hide_idle: false,
            filter_text: String::new(),
            filter: ProcFilter::default(),
            selected_id: None,
            selected: 0,
            detail: false,
            rows: Vec::new(),
        }
    }
}

/// Outcome of the last change to the DBUG control string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugChange {
    /// What the user asked for.
    pub requested: String,
    /// `Ok` or the server's error.
    pub result: Result<(), String>,
}

/// Samples kept per status variable for sparklines.
pub const HISTORY: usize = 120;

/// The whole console state.
#[derive(Debug, Clone)]
pub struct App {
    /// Current view.
    pub view: View,
    /// The latest snapshot.
    pub snapshot: Option<Snapshot>,
    /// Per status variable: rate (counters) or value (gauges), oldest first.
    pub history: HashMap<String, VecDeque<f64>>,
    /// Connection state.
    pub conn: ConnState,
    /// Refreshing paused.
    pub paused: bool,
    /// Refresh interval.
    pub delay: Duration,
    /// Use colours.
    pub color: bool,
    /// Input mode.
    pub mode: Mode,
    /// Bottom-bar message.
    pub message: Option<Message>,
    /// Processlist state.
    pub proc: ProcState,
    /// Plugins view position.
    pub plugins: ListState,
    /// Status view state.
    pub status: ListState,
    /// Variables view state.
    pub variables: ListState,
    /// Last DBUG change.
    pub debug_change: Option<DebugChange>,
    /// Set when the user asked to quit.
    pub quit: bool,
}

const DELAYS: [f64; 9] = [0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0];

impl App {
    /// A fresh console.
    pub fn new(view: View, delay: Duration, color: bool) -> App {
        App {
            view,
            snapshot: None,
            history: HashMap::new(),
            conn: ConnState::Connecting,
            paused: false,
            delay,
            color,
            mode: Mode::Normal,
            message: None,
            proc: ProcState::default(),
            plugins: ListState::default(),
            status: ListState::default(),
            variables: ListState::default(),
            debug_change: None,
            quit: false,
        }
    }

    /// What the next refresh must fetch for the current view.
    pub fn needs(&self) -> Needs {
        Needs {
            variables: matches!(self.view, View::Variables | View::Debug),
            plugins: self.view == View::Plugins
                || (self.view == View::Processlist && self.proc.detail),
        }
    }

    /// The process row under the cursor.
    pub fn selected_process(&self) -> Option<&ProcessRow> {
        let snap = self.snapshot.as_ref()?;
        let i = *self.proc.rows.get(self.proc.selected)?;
        snap.processlist.get(i)
    }

    /// Feed the result of a refresh.
    pub fn on_refresh(&mut self, result: Result<Snapshot, Error>) {
        match result {
            Ok(snap) => {
                if let ConnState::Lost { .. } = self.conn {
                    self.message = Some(Message {
                        text: "reconnected".into(),
                        error: false,
                    });
                }
                self.conn = ConnState::Up;
                for v in &snap.status.vars {
                    let sample = if v.gauge { v.number } else { v.rate };
                    if let Some(x) = sample {
                        let h = self.history.entry(v.name.clone()).or_default();
                        if h.len() == HISTORY {
                            h.pop_front();
                        }
                        h.push_back(x);
                    }
                }
                let mut snap = snap;
                // Keep the last known plugin data while another view is open.
                if matches!(snap.plugins.plugins, Avail::NotFetched) {
                    if let Some(old) = self.snapshot.take() {
                        snap.plugins = old.plugins;
                    }
                }
                self.snapshot = Some(snap);
                self.recompute();
            }
            Err(e) if e.is_connection_error() => {
                let attempts = match &self.conn {
                    ConnState::Lost { attempts, .. } => attempts + 1,
                    _ => 1,
                };
                self.conn = ConnState::Lost {
                    error: e.to_string(),
                    attempts,
                };
            }
            Err(e) => {
                self.message = Some(Message {
                    text: format!("refresh failed: {e}"),
                    error: true,
                });
            }
        }
    }

    /// Feed the result of a kill or SET.
    pub fn on_command_result(&mut self, cmd: &Command, result: Result<(), Error>) {
        let what = match cmd {
            Command::Kill { id, query_only } => format!(
                "KILL {} {id}",
                if *query_only { "QUERY" } else { "CONNECTION" }
            ),
            Command::SetGlobal { name, value } => format!("SET GLOBAL {name} = {value}"),
            Command::Refresh | Command::Quit => return,
        };
        if let Command::SetGlobal { name, value } = cmd {
            if matches!(name.as_str(), "debug" | "debug_dbug") {
                self.debug_change = Some(DebugChange {
                    requested: value.clone(),
                    result: result.as_ref().map(|_| ()).map_err(|e| e.to_string()),
                });
            }
        }
        self.message = Some(match result {
            Ok(()) => Message {
                text: format!("{what}: OK"),
                error: false,
            },
            Err(e) => Message {
                text: format!("{what}: refused: {e}"),
                error: true,
            },
        });
    }

    /// Recompute visible rows after new data or a changed filter/sort.
    pub fn recompute(&mut self) {
        let Some(snap) = &self.snapshot else { return };
        // Processlist.
        let p = &mut self.proc;
        let list = &snap.processlist;
        let mut rows: Vec<usize> = (0..list.len())
            .filter(|&i| !(p.hide_idle && list[i].is_idle()) && p.filter.matches(&list[i]))
            .collect();
        let key = p.sort;
        rows.sort_by(|&a, &b| {
            let (x, y) = (&list[a], &list[b]);
            let o = match key {
                ProcColumn::Id => x.id.cmp(&y.id),
                ProcColumn::User => x.user.cmp(&y.user),
                ProcColumn::Host => x.host.cmp(&y.host),
                ProcColumn::Db => x.db.cmp(&y.db),
                ProcColumn::Command => x.command.cmp(&y.command),
                ProcColumn::Time => x.time.cmp(&y.time),
                ProcColumn::State => x.state.cmp(&y.state),
                ProcColumn::Info => x.info.cmp(&y.info),
            };
            let o = if p.descending { o.reverse() } else { o };
            o.then(x.id.cmp(&y.id))
        });
        p.rows = rows;
        if let Some(id) = p.selected_id {
            if let Some(pos) = p.rows.iter().position(|&i| list[i].id == id) {
                p.selected = pos;
            }
        }
        if p.selected >= p.rows.len() {
            p.selected = p.rows.len().saturating_sub(1);
        }
        p.selected_id = p.rows.get(p.selected).map(|&i| list[i].id);

        // Status.
        let f = self.status.filter.to_lowercase();
        self.status.rows = snap
            .status
            .vars
            .iter()
            .enumerate()
            .filter(|(_, v)| f.is_empty() || v.name.to_lowercase().contains(&f))
            .map(|(i, _)| i)
            .collect();
        self.status.clamp();

        // Variables.
        let f = self.variables.filter.to_lowercase();
        self.variables.rows = match snap.variables.get() {
            Some(vars) => vars
                .vars
                .iter()
                .enumerate()
                .filter(|(_, (n, v))| {
                    f.is_empty() || n.to_lowercase().contains(&f) || v.to_lowercase().contains(&f)
                })
                .map(|(i, _)| i)
                .collect(),
            None => Vec::new(),
        };
        self.variables.clamp();

        // Plugins.
        self.plugins.rows = match snap.plugins.plugins.get() {
            Some(l) => (0..l.len()).collect(),
            None => Vec::new(),
        };
        self.plugins.clamp();
    }

    fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: false,
        });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: true,
        });
    }

    /// Handle one event; returns the work the loop must do.
    pub fn update(&mut self, event: Event) -> Vec<Command> {
        let key = match event {
            Event::Resize => return Vec::new(),
            Event::Key(k) if k.kind == KeyEventKind::Release => return Vec::new(),
            Event::Key(k) => k,
        };
        if key.modifiers.contains(KeyModifiers::CONTROL)
            && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('q'))
        {
            self.quit = true;
            return vec![Command::Quit];
        }
        match std::mem::take(&mut self.mode) {
            Mode::Help => Vec::new(), // any key closes
            Mode::Confirm {
                id,
                query_only,
                summary,
            } => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    vec![Command::Kill { id, query_only }, Command::Refresh]
                }
                _ => {
                    self.info(format!("kill cancelled ({summary})"));
                    Vec::new()
                }
            },
            Mode::Prompt { kind, mut buffer } => match key.code {
                KeyCode::Esc => Vec::new(),
                KeyCode::Enter => self.submit(kind, buffer),
                KeyCode::Backspace => {
                    buffer.pop();
                    self.mode = Mode::Prompt { kind, buffer };
                    Vec::new()
                }
                KeyCode::Char(c) => {
                    buffer.push(c);
                    self.mode = Mode::Prompt { kind, buffer };
                    Vec::new()
                }
                _ => {
                    self.mode = Mode::Prompt { kind, buffer };
                    Vec::new()
                }
            },
            Mode::Normal => self.normal_key(key),
        }
    }

    fn submit(&mut self, kind: PromptKind, buffer: String) -> Vec<Command> {
        match kind {
            PromptKind::ProcFilter => match ProcFilter::parse(&buffer) {
                Ok(f) => {
                    self.proc.filter = f;
                    self.proc.filter_text = buffer;
                    self.recompute();
                    Vec::new()
                }
                Err(e) => {
                    self.error(e);
                    Vec::new()
                }
            },
            PromptKind::StatusFilter => {
                self.status.filter = buffer;
                self.status.selected = 0;
                self.recompute();
                Vec::new()
            }
            PromptKind::VarFilter => {
                self.variables.filter = buffer;
                self.variables.selected = 0;
                self.recompute();
                Vec::new()
            }
            PromptKind::Delay => {
                match buffer
                    .trim()
                    .parse::<f64>()
                    .map_err(|e| format!("not a number of seconds: {buffer:?} ({e})"))
                    .and_then(|s| crate::options::parse_delay(s).map_err(|e| e.to_string()))
                {
                    Ok(d) => {
                        self.delay = d;
                        self.info(format!("refresh every {}", fmt_delay(d)));
                    }
                    Err(e) => self.error(e),
                }
                Vec::new()
            }
            PromptKind::EditVariable(name) | PromptKind::EditDebug(name) => {
                vec![
                    Command::SetGlobal {
                        name,
                        value: buffer,
                    },
                    Command::Refresh,
                ]
            }
        }
    }

    fn move_selection(&mut self, delta: isize, to_end: Option<bool>) {
        let (sel, len) = match self.view {
            View::Processlist => (&mut self.proc.selected, self.proc.rows.len()),
            View::Plugins => (&mut self.plugins.selected, self.plugins.rows.len()),
            View::Status => (&mut self.status.selected, self.status.rows.len()),
            View::Variables => (&mut self.variables.selected, self.variables.rows.len()),
            View::Debug => return,
        };
        if len == 0 {
            *sel = 0;
        } else {
            *sel = match to_end {
                Some(false) => 0,
                Some(true) => len - 1,
                None => (*sel as isize + delta).clamp(0, len as isize - 1) as usize,
            };
        }
        if self.view == View::Processlist {
            let id = self.selected_process().map(|p| p.id);
            self.proc.selected_id = id;
        }
    }

    fn normal_key(&mut self, key: KeyEvent) -> Vec<Command> {
        // Global keys.
        match key.code {
            KeyCode::Char('q') => {
                self.quit = true;
                return vec![Command::Quit];
            }
            KeyCode::Char('?') => {
                self.mode = Mode::Help;
                return Vec::new();
            }
            KeyCode::Char(c @ '1'..='5') => {
                let idx = (c as usize) - ('1' as usize);
                return self.switch(View::ALL[idx]);
            }
            KeyCode::Tab => {
                return self.switch(View::ALL[(self.view.index() + 1) % View::ALL.len()]);
            }
            KeyCode::BackTab => {
                return self.switch(
                    View::ALL[(self.view.index() + View::ALL.len() - 1) % View::ALL.len()],
                );
            }
            KeyCode::Char('p') | KeyCode::Char(' ') => {
                self.paused = !self.paused;
                self.info(if self.paused { "paused" } else { "resumed" });
                return Vec::new();
            }
            KeyCode::Char('+') | KeyCode::Char('-') => {
                let cur = self.delay.as_secs_f64();
                let next = if key.code == KeyCode::Char('+') {
                    DELAYS.iter().copied().find(|d| *d > cur + 1e-9)
                } else {
                    DELAYS.iter().rev().copied().find(|d| *d < cur - 1e-9)
                };
                if let Some(d) = next {
                    self.delay = Duration::from_secs_f64(d);
                }
                self.info(format!("refresh every {}", fmt_delay(self.delay)));
                return Vec::new();
            }
            KeyCode::Char('R') => return vec![Command::Refresh],
            KeyCode::Char('s') => {
                let cur = format!("{}", self.delay.as_secs_f64());
                self.prompt(PromptKind::Delay, cur);
                return Vec::new();
            }
            KeyCode::Char('j') | KeyCode::Down => {
                self.move_selection(1, None);
                return Vec::new();
            }
            KeyCode::Char('k') | KeyCode::Up => {
                self.move_selection(-1, None);
                return Vec::new();
            }
            KeyCode::PageDown => {
                self.move_selection(20, None);
                return Vec::new();
            }
            KeyCode::PageUp => {
                self.move_selection(-20, None);
                return Vec::new();
            }
            KeyCode::Char('g') | KeyCode::Home => {
                self.move_selection(0, Some(false));
                return Vec::new();
            }
            KeyCode::Char('G') | KeyCode::End => {
                self.move_selection(0, Some(true));
                return Vec::new();
            }
            _ => {}
        }
        match self.view {
            View::Processlist => self.processlist_key(key),
            View::Status => {
                if key.code == KeyCode::Char('/') {
                    self.prompt(PromptKind::StatusFilter, self.status.filter.clone());
                } else if key.code == KeyCode::Esc {
                    self.status.filter.clear();
                    self.recompute();
                }
                Vec::new()
            }
            View::Variables => {
                match key.code {
                    KeyCode::Char('/') => {
                        self.prompt(PromptKind::VarFilter, self.variables.filter.clone())
                    }
                    KeyCode::Esc => {
                        self.variables.filter.clear();
                        self.recompute();
                    }
                    KeyCode::Char('e') | KeyCode::Enter => {
                        let cur = self.snapshot.as_ref().and_then(|s| {
                            let vars = s.variables.get()?;
                            let i = *self.variables.rows.get(self.variables.selected)?;
                            vars.vars.get(i).cloned()
                        });
                        match cur {
                            Some((name, value)) => {
                                self.prompt(PromptKind::EditVariable(name), value)
                            }
                            None => self.error("no variable selected"),
                        }
                    }
                    _ => {}
                }
                Vec::new()
            }
            View::Debug => {
                if matches!(key.code, KeyCode::Char('e') | KeyCode::Enter) {
                    let var = self
                        .snapshot
                        .as_ref()
                        .and_then(|s| s.variables.get())
                        .and_then(|v| v.debug_variable())
                        .map(|(n, v)| (n.to_string(), v.to_string()));
                    match var {
                        Some((name, value)) => self.prompt(PromptKind::EditDebug(name), value),
                        None => self.error(
                            "this server has no DBUG control variable (@@debug / @@debug_dbug)",
                        ),
                    }
                }
                Vec::new()
            }
            View::Plugins => Vec::new(),
        }
    }

    fn prompt(&mut self, kind: PromptKind, buffer: String) {
        self.mode = Mode::Prompt { kind, buffer };
    }

    fn switch(&mut self, view: View) -> Vec<Command> {
        let before = self.needs();
        self.view = view;
        let after = self.needs();
        // Fetch at once when the new view needs data the last refresh skipped.
        if (after.plugins && !before.plugins) || (after.variables && !before.variables) {
            vec![Command::Refresh]
        } else {
            Vec::new()
        }
    }

    fn processlist_key(&mut self, key: KeyEvent) -> Vec<Command> {
        match key.code {
            KeyCode::Char('<') | KeyCode::Char('>') => {
                let n = ProcColumn::ALL.len();
                let i = self.proc.sort.index();
                let j = if key.code == KeyCode::Char('>') {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.proc.sort = ProcColumn::ALL[j];
                self.recompute();
                self.info(format!("sorted by {}", self.proc.sort.title()));
            }
            KeyCode::Char('r') => {
                self.proc.descending = !self.proc.descending;
                self.recompute();
            }
            KeyCode::Char('i') => {
                self.proc.hide_idle = !self.proc.hide_idle;
                self.recompute();
                self.info(if self.proc.hide_idle {
                    "idle threads hidden"
                } else {
                    "idle threads shown"
                });
            }
            KeyCode::Char('/') => {
                self.prompt(PromptKind::ProcFilter, self.proc.filter_text.clone());
            }
            KeyCode::Esc => {
                self.proc.filter = ProcFilter::default();
                self.proc.filter_text.clear();
                self.recompute();
            }
            KeyCode::Enter | KeyCode::Char('d') => {
                self.proc.detail = !self.proc.detail;
                if self.proc.detail {
                    return vec![Command::Refresh];
                }
            }
            KeyCode::Char('x') | KeyCode::Char('K') => {
                let query_only = key.code == KeyCode::Char('x');
                match self.selected_process() {
                    Some(p) => {
                        let summary = format!(
                            "{}@{} {}: {}",
                            p.user,
                            p.host,
                            p.command,
                            p.info.as_deref().unwrap_or("(no statement)")
                        );
                        self.mode = Mode::Confirm {
                            id: p.id,
                            query_only,
                            summary,
                        };
                    }
                    None => self.error("no thread selected"),
                }
            }
            _ => {}
        }
        Vec::new()
    }
}

/// `2s`, `500ms`, `1m30s`.
pub fn fmt_delay(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms % 1000 == 0 {
        let s = ms / 1000;
        if s >= 60 && s % 60 == 0 {
            format!("{}m", s / 60)
        } else {
            format!("{s}s")
        }
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Header, Plugins, Status};

    fn row(id: u64, user: &str, cmd: &str, time: u64, info: Option<&str>) -> ProcessRow {
        ProcessRow {
            id,
            user: user.into(),
            host: format!("10.0.0.{id}:4000"),
            db: Some("shop".into()),
            command: cmd.into(),
            time,
            state: None,
            info: info.map(str::to_string),
        }
    }

    fn app_with(rows: Vec<ProcessRow>) -> App {
        let mut app = App::new(View::Processlist, Duration::from_secs(2), false);
        app.on_refresh(Ok(Snapshot {
            header: Header::default(),
            processlist: rows,
            status: Status::default(),
            variables: Avail::NotFetched,
            plugins: Plugins::default(),
            elapsed_secs: 0.0,
            processlist_note: None,
            status_note: None,
        }));
        app
    }

    fn ids(app: &App) -> Vec<u64> {
        let s = app.snapshot.as_ref().expect("snapshot");
        app.proc.rows.iter().map(|&i| s.processlist[i].id).collect()
    }

    #[test]
    fn sort_by_any_column_and_reverse() {
        let mut app = app_with(vec![
            row(1, "bob", "Sleep", 5, None),
            row(2, "alice", "Query", 50, Some("SELECT 1")),
            row(3, "carol", "Query", 10, Some("SELECT 2")),
        ]);
        assert_eq!(ids(&app), vec![2, 3, 1], "default: time descending");
        app.update(Event::char('r'));
        assert_eq!(ids(&app), vec![1, 3, 2]);
        app.update(Event::char('<')); // Command
        app.update(Event::char('<')); // db
        app.update(Event::char('<')); // Host
        app.update(Event::char('<')); // User
        assert_eq!(app.proc.sort, ProcColumn::User);
        assert_eq!(ids(&app), vec![2, 1, 3], "user ascending");
    }

    #[test]
    fn hide_idle_and_filter() {
        let mut app = app_with(vec![
            row(1, "bob", "Sleep", 5, None),
            row(2, "alice", "Query", 50, Some("SELECT SLEEP(100)")),
            row(3, "carol", "Query", 10, Some("UPDATE t SET x=1")),
        ]);
        app.update(Event::char('i'));
        assert_eq!(ids(&app), vec![2, 3]);
        app.update(Event::char('/'));
        for c in "sleep\\(".chars() {
            app.update(Event::char(c));
        }
        app.update(Event::code(KeyCode::Enter));
        assert_eq!(ids(&app), vec![2]);
        app.update(Event::char('/'));
        for _ in 0..10 {
            app.update(Event::code(KeyCode::Backspace));
        }
        for c in "user:car".chars() {
            app.update(Event::char(c));
        }
        app.update(Event::code(KeyCode::Enter));
        assert_eq!(ids(&app), vec![3]);
        // A bad regex keeps the previous filter and says why.
        app.update(Event::char('/'));
        app.update(Event::char(' '));
        app.update(Event::char('('));
        app.update(Event::code(KeyCode::Enter));
        assert_eq!(ids(&app), vec![3]);
        assert!(
            app.message
                .as_ref()
                .is_some_and(|m| m.error && m.text.contains("regular"))
        );
    }

    #[test]
    fn kill_needs_confirmation_and_targets_the_selected_thread() {
        let mut app = app_with(vec![
            row(7, "bob", "Query", 5, Some("SELECT 1")),
            row(9, "alice", "Query", 50, Some("SELECT SLEEP(100)")),
        ]);
        assert_eq!(app.update(Event::char('x')), vec![]);
        assert!(matches!(
            app.mode,
            Mode::Confirm {
                id: 9,
                query_only: true,
                ..
            }
        ));
        assert_eq!(app.update(Event::char('n')), vec![]);
        assert_eq!(app.mode, Mode::Normal);
        app.update(Event::char('j'));
        app.update(Event::char('K'));
        assert_eq!(
            app.update(Event::char('y')),
            vec![
                Command::Kill {
                    id: 7,
                    query_only: false
                },
                Command::Refresh
            ]
        );
    }

    #[test]
    fn selection_follows_the_thread_across_refreshes() {
        let mut app = app_with(vec![
            row(1, "a", "Query", 5, None),
            row(2, "b", "Query", 9, None),
        ]);
        app.update(Event::char('j'));
        assert_eq!(app.selected_process().map(|p| p.id), Some(1));
        let snap = Snapshot {
            processlist: vec![
                row(1, "a", "Query", 50, None),
                row(2, "b", "Query", 9, None),
            ],
            ..app.snapshot.clone().expect("snapshot")
        };
        app.on_refresh(Ok(snap));
        assert_eq!(app.selected_process().map(|p| p.id), Some(1));
        assert_eq!(app.proc.selected, 0);
    }

    #[test]
    fn views_delay_pause_and_connection_loss() {
        let mut app = app_with(vec![]);
        assert_eq!(app.update(Event::char('2')), vec![Command::Refresh]);
        assert_eq!(app.view, View::Plugins);
        app.update(Event::code(KeyCode::Tab));
        assert_eq!(app.view, View::Status);
        app.update(Event::code(KeyCode::BackTab));
        assert_eq!(app.view, View::Plugins);
        app.update(Event::char('+'));
        assert_eq!(app.delay, Duration::from_secs(5));
        app.update(Event::char('-'));
        app.update(Event::char('-'));
        assert_eq!(app.delay, Duration::from_secs(1));
        app.update(Event::char('s'));
        for _ in 0..5 {
            app.update(Event::code(KeyCode::Backspace));
        }
        for c in "0.5".chars() {
            app.update(Event::char(c));
        }
        app.update(Event::code(KeyCode::Enter));
        assert_eq!(app.delay, Duration::from_millis(500));
        app.update(Event::char('s'));
        app.update(Event::char('x'));
        app.update(Event::code(KeyCode::Enter));
        assert_eq!(app.delay, Duration::from_millis(500));
        assert!(app.message.as_ref().is_some_and(|m| m.error));
        app.update(Event::char('+'));
        app.update(Event::char('+'));
        assert_eq!(app.delay, Duration::from_secs(2));
        app.update(Event::char('p'));
        assert!(app.paused);
        app.on_refresh(Err(Error::ConnectionLost("gone".into())));
        app.on_refresh(Err(Error::ConnectionLost("gone".into())));
        assert!(matches!(app.conn, ConnState::Lost { attempts: 2, .. }));
        assert!(app.snapshot.is_some(), "the last data stays on screen");
        assert_eq!(app.update(Event::char('q')), vec![Command::Quit]);
        assert!(app.quit);
    }
}
