//! The terminal and the event loop.
//!
//! [`TerminalGuard`] enters raw mode and the alternate screen and restores both in
//! `Drop`; [`install_panic_hook`] restores them before a panic message is printed.
//! [`run_loop`] is generic over the ratatui `Backend` and an [`EventSource`], so
//! tests drive the real loop against a real server with `TestBackend` and a script
//! of key presses.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::crossterm::event::{self, Event as CtEvent, KeyCode, KeyEventKind};
use ratatui::crossterm::{cursor, execute, terminal};

use crate::app::{App, Command, Event};
use crate::client::{Client, ConnectOptions, set_global_sql};
use crate::error::{Error, Result};
use crate::model::{Collector, Snapshot};
use crate::options::Settings;

/// Where events come from.
pub trait EventSource {
    /// Wait at most `timeout` for the next event. `Ok(None)` on timeout.
    fn next(&mut self, timeout: Duration) -> Result<Option<Event>>;
}

/// Keyboard and resize events from the real terminal.
#[derive(Debug, Default)]
pub struct CrosstermEvents;

impl EventSource for CrosstermEvents {
    fn next(&mut self, timeout: Duration) -> Result<Option<Event>> {
        let term_err = |e: std::io::Error| Error::Terminal(e.to_string());
        if !event::poll(timeout).map_err(term_err)? {
            return Ok(None);
        }
        Ok(match event::read().map_err(term_err)? {
            CtEvent::Key(k) => Some(Event::Key(k)),
            CtEvent::Resize(..) => Some(Event::Resize),
            _ => None,
        })
    }
}

/// Whether the console currently owns the terminal (raw mode + alternate screen).
/// The terminal is process-global state, so this flag is too: it makes restoring
/// idempotent. Leaving the alternate screen twice would move the cursor back to
/// where the console started and overwrite what was printed since (the panic
/// message, printed by the hook before `Drop` runs during unwinding).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Put the terminal back: leave raw mode and the alternate screen, show the cursor.
/// Does nothing unless [`TerminalGuard::enter`] took the terminal, so it is safe to
/// call from both the panic hook and `Drop`.
pub fn restore_terminal() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = terminal::disable_raw_mode();
        let _ = execute!(
            std::io::stdout(),
            terminal::LeaveAlternateScreen,
            cursor::Show
        );
    }
}

/// Restores the terminal when dropped (normal exit, `?` error return, unwinding).
#[derive(Debug)]
pub struct TerminalGuard {
    _private: (),
}

impl TerminalGuard {
    /// Enter raw mode and the alternate screen.
    pub fn enter() -> Result<TerminalGuard> {
        terminal::enable_raw_mode().map_err(|e| {
            Error::Terminal(format!(
                "cannot take over the terminal ({e}); the interactive console needs one, \
                 use --batch in scripts"
            ))
        })?;
        ACTIVE.store(true, Ordering::SeqCst);
        let guard = TerminalGuard { _private: () };
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            cursor::Hide
        )
        .map_err(|e| Error::Terminal(e.to_string()))?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Chain a panic hook that restores the terminal before the message is printed.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

/// Read a password from the terminal without echo.
pub fn read_password(prompt: &str) -> Result<String> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "-p without a value asks on a terminal, but stdin is not one: use -pPASSWORD or MYSQL_PWD"
                .into(),
        ));
    }
    let term_err = |e: std::io::Error| Error::Terminal(e.to_string());
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    terminal::enable_raw_mode().map_err(term_err)?;
    let mut pw = String::new();
    let result = loop {
        match event::read() {
            Ok(CtEvent::Key(k)) if k.kind != KeyEventKind::Release => match k.code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Backspace => {
                    pw.pop();
                }
                KeyCode::Esc => break Err(Error::Usage("password entry cancelled".into())),
                KeyCode::Char('c') if k.modifiers.contains(event::KeyModifiers::CONTROL) => {
                    break Err(Error::Usage("password entry cancelled".into()));
                }
                KeyCode::Char(c) => pw.push(c),
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(term_err(e)),
        }
    };
    let _ = terminal::disable_raw_mode();
    eprintln!();
    result.map(|()| pw)
}

/// The connection as the loop sees it: reconnects after a loss.
#[derive(Debug)]
pub struct Session {
    opts: ConnectOptions,
    client: Option<Client>,
    collector: Collector,
}

impl Session {
    /// A session that connects on first use.
    pub fn new(opts: ConnectOptions) -> Session {
        Session {
            opts,
            client: None,
            collector: Collector::new(),
        }
    }

    /// A session over an already open client.
    pub fn with_client(client: Client) -> Session {
        Session {
            opts: client.options().clone(),
            client: Some(client),
            collector: Collector::new(),
        }
    }

    /// Statements sent on the current connection (for tests of the per-refresh cost).
    pub fn queries_sent(&self) -> u64 {
        self.client.as_ref().map(Client::queries_sent).unwrap_or(0)
    }

    /// The server's id of our own connection.
    pub fn connection_id(&self) -> Option<u32> {
        self.client.as_ref().map(Client::connection_id)
    }

    fn client(&mut self) -> Result<&mut Client> {
        if self.client.is_none() {
            let c = Client::connect(&self.opts)?;
            self.collector.reset_probes();
            self.client = Some(c);
        }
        self.client
            .as_mut()
            .ok_or_else(|| Error::ConnectionLost("not connected".into()))
    }

    fn check<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            if e.is_connection_error() {
                self.client = None;
            }
        }
        r
    }

    /// Fetch a snapshot for what the app currently shows.
    pub fn refresh(&mut self, app: &App) -> Result<Snapshot> {
        let needs = app.needs();
        let r = match self.client() {
            Ok(_) => {
                let Session {
                    client, collector, ..
                } = self;
                match client.as_mut() {
                    Some(c) => collector.collect(c, needs),
                    None => Err(Error::ConnectionLost("not connected".into())),
                }
            }
            Err(e) => Err(e),
        };
        self.check(r)
    }

    /// Run a kill or SET.
    pub fn perform(&mut self, cmd: &Command) -> Result<()> {
        let sql = match cmd {
            Command::Kill { id, query_only } => format!(
                "KILL {} {id}",
                if *query_only { "QUERY" } else { "CONNECTION" }
            ),
            Command::SetGlobal { name, value } => set_global_sql(name, value)?,
            Command::Refresh | Command::Quit => return Ok(()),
        };
        let r = self.client().and_then(|c| c.execute(&sql));
        self.check(r)
    }
}

/// Map a backend error.
fn draw_err(e: impl std::fmt::Display) -> Error {
    Error::Terminal(e.to_string())
}

/// The console loop: draw, wait for an event or the next refresh, update, act.
/// Returns when the app quits, or when `events` reports an error.
pub fn run_loop<B: Backend, E: EventSource>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    session: &mut Session,
    events: &mut E,
) -> Result<()> {
    let mut next_refresh = Instant::now();
    // A refresh asked for by a command (view switch, kill, SET, `R`) happens even
    // while paused; the periodic one does not.
    let mut forced = true;
    app.quit = false;
    loop {
        if forced || (!app.paused && Instant::now() >= next_refresh) {
            let r = session.refresh(app);
            app.on_refresh(r);
            next_refresh = Instant::now() + app.delay;
            forced = false;
        }
        terminal
            .draw(|f| f.render_widget(&*app, f.area()))
            .map_err(draw_err)?;
        if app.quit {
            return Ok(());
        }
        let timeout = if app.paused {
            Duration::from_millis(250)
        } else {
            next_refresh.saturating_duration_since(Instant::now())
        };
        let Some(ev) = events.next(timeout)? else {
            continue;
        };
        dbug::dbug_print!("event", "{ev:?}");
        for cmd in app.update(ev) {
            dbug::dbug_print!("event", "command: {cmd:?}");
            match cmd {
                Command::Quit => app.quit = true,
                Command::Refresh => forced = true,
                other => {
                    let r = session.perform(&other);
                    app.on_command_result(&other, r);
                }
            }
        }
    }
}

/// The interactive console on the real terminal.
pub fn run_terminal(settings: &Settings) -> Result<()> {
    // Connect first so that a refused connection or bad password is a plain error
    // with its exit code, before the screen is taken over.
    let client = Client::connect(&settings.connect)?;
    let mut session = Session::with_client(client);
    let mut app = App::new(settings.view, settings.delay, !settings.nocolor);
    install_panic_hook();
    let _guard = TerminalGuard::enter()?;
    let backend = CrosstermBackend::new(std::io::stdout());
    let mut terminal = Terminal::new(backend).map_err(draw_err)?;
    terminal.clear().map_err(draw_err)?;
    run_loop(&mut terminal, &mut app, &mut session, &mut CrosstermEvents)
}
