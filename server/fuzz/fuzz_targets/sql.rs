//! Fuzz target: the SQL statement path of a real session must never panic, hang
//! or leave the server unusable.
//!
//! Each input runs against a fresh server ([`Server::new`] on a new data
//! directory under `/dev/shm` or the temp dir), so a crash reproduces from its
//! input alone. The harness is a real client: it talks the MySQL protocol to
//! `minnow_server::session::run_connection` (the function the accept loop runs
//! for every connection) over a Unix socket pair, so every byte goes through
//! the server's own framing, command decoding, `mysql_execute_command`, SQLite
//! and result encoding, exactly as for `mariadb` or `mysql_async`.
//!
//! Input: pieces separated by NUL bytes (at most 16), run in order on one
//! connection so state builds up. The first byte of a piece selects what to send:
//! * `\x01` + text: COM_STMT_PREPARE, then COM_STMT_EXECUTE twice (types bound,
//!   then reused) with parameters 42, 'x', NULL, 1.5, …, then COM_STMT_CLOSE.
//! * `\x02` + name: COM_INIT_DB. `\x03` + payload: COM_FIELD_LIST.
//! * `\x04` + payload: COM_CHANGE_USER with this raw payload (answering an auth
//!   switch with an empty token).
//! * `\x05` + packet: any command packet, raw (its first byte is the command).
//! * `\x06` + bytes: raw bytes on the wire (packet framing), then the client
//!   closes its side; the server must close the connection.
//! * anything else: COM_QUERY with the piece as text (multi-statements on).
//!
//! What counts as a bug:
//! * any panic in the server (libFuzzer's panic hook aborts even on the session
//!   thread, although `spawn_session` would catch it in `minnowd`);
//! * a malformed reply (packets are decoded with `mysql_common`, as clients do);
//! * a statement still running 5 s after `KILL QUERY` (a statement that runs
//!   longer than 0.5 s is killed; the rest of the input is then skipped);
//! * the server closing a connection where nothing in the input asked for it;
//! * after the input, `SELECT 1` failing on the same or on a new connection, a
//!   session thread that does not end when its client goes, or
//!   `Threads_connected`/`Threads_running` not back to 0.
//!
//! Inputs mentioning `debug` or `log_file` are skipped: `SET debug='o,file'` and
//! `SET GLOBAL general_log_file` write files at paths taken from the input, and
//! the DBUG fault injection points crash on purpose.
//!
//! Run from `server/` (seed the corpus first with `fuzz/seed.sh`):
//! `cargo +nightly fuzz run sql fuzz/corpus/sql -- -dict=fuzz/sql.dict -timeout=10
//! -rss_limit_mb=4096 -detect_leaks=0`. Each input starts a server, which leaks a
//! few hundred bytes on purpose (suppressed below); `-detect_leaks=0` saves the
//! leak scan libFuzzer would then run after every input.
#![no_main]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use minnow_server::errlog::ErrorLog;
use minnow_server::protocol::Stream;
use minnow_server::server::Shared;
use minnow_server::threads::KillLevel;
use minnow_server::{Config, Server, Shutdown};
use mysql_common::constants::{CapabilityFlags, StatusFlags};
use mysql_common::io::ParseBuf;
use mysql_common::packets::{
    Column, CommonOkPacket, ErrPacket, OkPacketDeserializer, OldEofPacket,
};
use mysql_common::proto::{Binary, Text};
use mysql_common::row::RowDeserializer;
use mysql_common::value::ServerSide;

const SEPARATOR: u8 = 0;
const MAX_PIECES: usize = 16;
/// A statement running longer than this is killed with `KILL QUERY`.
const STMT_PATIENCE: Duration = Duration::from_millis(500);
/// After `KILL QUERY`, the statement must stop within this.
const KILL_PATIENCE: Duration = Duration::from_secs(5);

static RUN: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let lower = data.to_ascii_lowercase();
    let has = |w: &str| lower.windows(w.len()).any(|x| x == w.as_bytes());
    if has("debug") || has("log_file") {
        return;
    }
    let mut run = Run::new(data);
    run.go();
});

/// LeakSanitizer: `Server::new` leaks a few hundred bytes on purpose, once per
/// process in `minnowd` but once per input here: the built-in plugin declaration
/// (`BuiltinDecl::leak`, `'static` for the plugin ABI) and its services table
/// (`PluginCode::new` forgets its `Arc<ServicesBox>`: plugins may keep the
/// pointer), with what that keeps. Any other leak is still reported.
#[unsafe(no_mangle)]
pub extern "C" fn __lsan_default_suppressions() -> *const std::ffi::c_char {
    c"leak:BuiltinDecl>::leak\nleak:ffi::ServicesBox>\n".as_ptr()
}

fn caps() -> CapabilityFlags {
    CapabilityFlags::CLIENT_LONG_PASSWORD
        | CapabilityFlags::CLIENT_LONG_FLAG
        | CapabilityFlags::CLIENT_PROTOCOL_41
        | CapabilityFlags::CLIENT_TRANSACTIONS
        | CapabilityFlags::CLIENT_SECURE_CONNECTION
        | CapabilityFlags::CLIENT_MULTI_STATEMENTS
        | CapabilityFlags::CLIENT_MULTI_RESULTS
        | CapabilityFlags::CLIENT_PS_MULTI_RESULTS
        | CapabilityFlags::CLIENT_PLUGIN_AUTH
}

/// The connection went away (server closed it).
#[derive(Debug)]
struct Closed;

/// One input: a fresh server and its connections.
struct Run<'a> {
    input: &'a [u8],
    dir: PathBuf,
    server: Option<Server>,
    shared: Arc<Shared>,
    /// A statement needed `KILL QUERY`: the rest of the input is skipped.
    stalled: bool,
}

impl<'a> Run<'a> {
    fn new(input: &'a [u8]) -> Self {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!(
            "minnow-fuzz-sql-{}-{}",
            std::process::id(),
            RUN.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let config = Config::new(dir.join("data"));
        let server = Server::new(
            config,
            ErrorLog::new(Box::new(std::io::sink())),
            Shutdown::new(),
        )
        .expect("a fresh server starts");
        let shared = Arc::clone(server.shared());
        Run {
            input,
            dir,
            server: Some(server),
            shared,
            stalled: false,
        }
    }

    /// Whether the input could legitimately make the server close a connection.
    fn may_close(&self) -> bool {
        let lower = self.input.to_ascii_lowercase();
        ["kill", "max_allowed_packet", "timeout", "max_connections"]
            .iter()
            .any(|w| lower.windows(w.len()).any(|x| x == w.as_bytes()))
    }

    /// Whether the input may have changed root's account or its authentication.
    fn accounts_changed(&self) -> bool {
        let lower = self.input.to_ascii_lowercase();
        ["mysql", "user", "plugin", "password"]
            .iter()
            .any(|w| lower.windows(w.len()).any(|x| x == w.as_bytes()))
    }

    fn go(&mut self) {
        let input = self.input;
        let mut conn = Some(self.connect().expect("the first connection logs in"));
        for piece in input.split(|&b| b == SEPARATOR).take(MAX_PIECES) {
            if self.stalled {
                break;
            }
            let c = match conn.as_mut() {
                Some(c) => c,
                None => match self.connect() {
                    Ok(c) => conn.insert(c),
                    Err(Closed) => {
                        assert!(
                            self.may_close() || self.accounts_changed(),
                            "a new connection was refused after {piece:?}"
                        );
                        break;
                    }
                },
            };
            let (r, closing_is_fine) = match piece.split_first() {
                Some((1, text)) => (self.prepared(c, text), false),
                Some((2, name)) => (self.simple(c, 0x02, name), false),
                Some((3, payload)) => (self.field_list(c, payload), false),
                Some((4, payload)) => (self.change_user(c, payload), true),
                Some((5, packet)) => (self.raw_command(c, packet), true),
                Some((6, bytes)) => {
                    self.framing(c, bytes);
                    (Err(Closed), true)
                }
                _ => (self.query(c, piece), false),
            };
            if r.is_err() {
                assert!(
                    closing_is_fine || self.may_close(),
                    "the server closed the connection after {:?}",
                    String::from_utf8_lossy(piece)
                );
                if let Some(c) = conn.take() {
                    c.finish();
                }
            }
        }
        // The session is still usable, and so is the server.
        if let Some(mut c) = conn.take() {
            match self.select_one(&mut c) {
                Ok(()) => {}
                Err(Closed) => assert!(self.may_close(), "connection closed at SELECT 1"),
            }
            c.finish();
        }
        match self.connect() {
            Ok(mut c) => {
                self.select_one(&mut c)
                    .expect("SELECT 1 on a new connection after the input");
                c.finish();
            }
            Err(Closed) => assert!(
                self.may_close() || self.accounts_changed(),
                "a new connection was refused"
            ),
        }
        let st = &self.shared.status;
        assert_eq!(st.threads_connected.load(Ordering::Relaxed), 0);
        assert_eq!(st.threads_running.load(Ordering::Relaxed), 0);
        assert!(
            self.shared.threads.is_empty(),
            "threads left in the registry"
        );
    }

    fn connect(&mut self) -> Result<Conn, Closed> {
        let (client, server_end) = UnixStream::pair().expect("socketpair");
        let sh = Arc::clone(&self.shared);
        let thread = std::thread::Builder::new()
            .name("connection".into())
            .spawn(move || {
                minnow_server::session::run_connection(sh, Stream::Unix(server_end), None, true)
            })
            .expect("spawn a session thread");
        let mut c = Conn {
            s: client,
            seq: 0,
            buf: Vec::new(),
            thread: Some(thread),
        };
        let greeting = self.read(&mut c)?;
        if greeting.first() == Some(&0xff) {
            // Too many connections (the input lowered max_connections).
            c.finish();
            return Err(Closed);
        }
        assert_eq!(greeting.first(), Some(&10), "handshake v10 expected");
        let mut p = Vec::new();
        p.extend_from_slice(&caps().bits().to_le_bytes());
        p.extend_from_slice(&(16u32 << 20).to_le_bytes());
        p.push(45);
        p.extend_from_slice(&[0; 23]);
        p.extend_from_slice(b"root\0");
        p.push(0);
        p.extend_from_slice(b"mysql_native_password\0");
        c.write(&p)?;
        let ok = self.read(&mut c)?;
        if ok.first() == Some(&0xff) {
            // The input changed the accounts (DELETE FROM mysql.user, ALTER USER …).
            self.err(&ok);
            assert!(self.accounts_changed(), "login refused: {ok:?}");
            c.finish();
            return Err(Closed);
        }
        assert_eq!(ok.first(), Some(&0), "login OK expected: {ok:?}");
        Ok(c)
    }

    /// Reads one packet; a statement that takes too long is killed.
    fn read(&mut self, c: &mut Conn) -> Result<Vec<u8>, Closed> {
        let start = Instant::now();
        let mut killed = false;
        loop {
            match c.read_packet() {
                Ok(p) => return Ok(p),
                Err(ReadErr::Closed) => return Err(Closed),
                Err(ReadErr::Timeout) => {
                    if !killed {
                        for t in self.shared.threads.all() {
                            t.kill(KillLevel::Query);
                        }
                        killed = true;
                        self.stalled = true;
                    } else if start.elapsed() > STMT_PATIENCE + KILL_PATIENCE {
                        panic!(
                            "hang: no reply {KILL_PATIENCE:?} after KILL QUERY (input {:?})",
                            String::from_utf8_lossy(self.input)
                        );
                    }
                }
            }
        }
    }

    fn query(&mut self, c: &mut Conn, text: &[u8]) -> Result<(), Closed> {
        let mut p = vec![0x03];
        p.extend_from_slice(text);
        c.command(&p)?;
        self.response(c, false, false)
    }

    fn select_one(&mut self, c: &mut Conn) -> Result<(), Closed> {
        c.command(b"\x03SELECT 1")?;
        let n = self.read(c)?;
        assert_eq!(n, [1], "SELECT 1: one column expected, got {n:?}");
        let col = self.read(c)?;
        self.column(&col);
        let p = self.read(c)?;
        self.eof(&p);
        let row = self.read(c)?;
        assert_eq!(row, b"\x011", "SELECT 1: row '1' expected");
        let p = self.read(c)?;
        let st = self.eof(&p);
        assert!(!st.contains(StatusFlags::SERVER_MORE_RESULTS_EXISTS));
        c.command(b"\x0e")?;
        let ok = self.read(c)?;
        self.ok(&ok);
        Ok(())
    }

    /// Reads a whole reply (every result of a multi-statement). `raw`: a top-level
    /// EOF packet also ends it (COM_DEBUG, COM_SET_OPTION).
    fn response(&mut self, c: &mut Conn, binary: bool, raw: bool) -> Result<(), Closed> {
        loop {
            let p = self.read(c)?;
            let status = match p.first() {
                Some(0x00) => self.ok(&p),
                Some(0xff) => {
                    self.err(&p);
                    return Ok(());
                }
                Some(0xfe) if raw && p.len() < 9 => self.eof(&p),
                Some(0xfb) => panic!("LOCAL INFILE request: the client never asked for it"),
                _ => match self.result_set(c, &p, binary)? {
                    Some(st) => st,
                    None => return Ok(()),
                },
            };
            if !status.contains(StatusFlags::SERVER_MORE_RESULTS_EXISTS) {
                return Ok(());
            }
        }
    }

    /// A result set after its column-count packet; `None` when it ended in an error.
    fn result_set(
        &mut self,
        c: &mut Conn,
        count: &[u8],
        binary: bool,
    ) -> Result<Option<StatusFlags>, Closed> {
        let mut pb = ParseBuf(count);
        let n = pb.checked_eat_lenenc_int().expect("column count");
        assert!(pb.is_empty(), "bytes after the column count: {count:?}");
        assert!(n > 0 && n < 1 << 16, "column count {n}");
        let mut cols = Vec::new();
        for _ in 0..n {
            let p = self.read(c)?;
            cols.push(self.column(&p));
        }
        let p = self.read(c)?;
        self.eof(&p);
        let cols: Arc<[Column]> = cols.into();
        loop {
            let p = self.read(c)?;
            match p.first() {
                Some(0xfe) if p.len() < 9 => return Ok(Some(self.eof(&p))),
                Some(0xff) => {
                    self.err(&p);
                    return Ok(None);
                }
                _ => {
                    let mut pb = ParseBuf(&p);
                    if binary {
                        pb.parse::<RowDeserializer<ServerSide, Binary>>(cols.clone())
                            .unwrap_or_else(|e| panic!("binary row {p:?}: {e}"));
                    } else {
                        pb.parse::<RowDeserializer<ServerSide, Text>>(cols.clone())
                            .unwrap_or_else(|e| panic!("text row {p:?}: {e}"));
                    }
                    assert!(pb.is_empty(), "bytes after a row of {n} columns: {p:?}");
                }
            }
        }
    }

    fn column(&self, p: &[u8]) -> Column {
        ParseBuf(p)
            .parse::<Column>(())
            .unwrap_or_else(|e| panic!("column definition {p:?}: {e}"))
    }

    fn ok(&self, p: &[u8]) -> StatusFlags {
        ParseBuf(p)
            .parse::<OkPacketDeserializer<CommonOkPacket>>(caps())
            .unwrap_or_else(|e| panic!("OK packet {p:?}: {e}"))
            .into_inner()
            .status_flags()
    }

    fn eof(&self, p: &[u8]) -> StatusFlags {
        assert!(
            p.first() == Some(&0xfe) && p.len() < 9,
            "EOF expected: {p:?}"
        );
        ParseBuf(p)
            .parse::<OkPacketDeserializer<OldEofPacket>>(caps())
            .unwrap_or_else(|e| panic!("EOF packet {p:?}: {e}"))
            .into_inner()
            .status_flags()
    }

    fn err(&self, p: &[u8]) {
        let e = ParseBuf(p)
            .parse::<ErrPacket<'_>>(caps())
            .unwrap_or_else(|e| panic!("ERR packet {p:?}: {e}"));
        assert!(e.is_error(), "progress report instead of an error: {p:?}");
        let code = e.server_error().error_code();
        assert!(code >= 1000, "error code {code}: {p:?}");
    }

    /// OK or ERR (COM_INIT_DB, COM_SHUTDOWN, …).
    fn simple(&mut self, c: &mut Conn, com: u8, payload: &[u8]) -> Result<(), Closed> {
        let mut p = vec![com];
        p.extend_from_slice(payload);
        c.command(&p)?;
        let r = self.read(c)?;
        match r.first() {
            Some(0) => {
                self.ok(&r);
            }
            Some(0xff) => self.err(&r),
            _ => panic!("OK or ERR expected after command {com:#x}: {r:?}"),
        }
        Ok(())
    }

    fn field_list(&mut self, c: &mut Conn, payload: &[u8]) -> Result<(), Closed> {
        let mut p = vec![0x04];
        p.extend_from_slice(payload);
        c.command(&p)?;
        loop {
            let r = self.read(c)?;
            match r.first() {
                Some(0xfe) if r.len() < 9 => {
                    self.eof(&r);
                    return Ok(());
                }
                Some(0xff) => {
                    self.err(&r);
                    return Ok(());
                }
                // A column definition followed by the default value.
                _ => {
                    let mut pb = ParseBuf(&r);
                    pb.parse::<Column>(())
                        .unwrap_or_else(|e| panic!("field list column {r:?}: {e}"));
                }
            }
        }
    }

    fn change_user(&mut self, c: &mut Conn, payload: &[u8]) -> Result<(), Closed> {
        let mut p = vec![0x11];
        p.extend_from_slice(payload);
        c.command(&p)?;
        let mut r = self.read(c)?;
        if r.first() == Some(&0xfe) {
            // Auth switch: answer with an empty token (root has no password).
            c.write(&[])?;
            r = self.read(c)?;
        }
        match r.first() {
            Some(0) => {
                self.ok(&r);
                Ok(())
            }
            Some(0xff) => {
                self.err(&r);
                // A failed change-user ends the session, as in MySQL.
                Err(Closed)
            }
            _ => panic!("OK or ERR expected after COM_CHANGE_USER: {r:?}"),
        }
    }

    fn prepared(&mut self, c: &mut Conn, text: &[u8]) -> Result<(), Closed> {
        let mut p = vec![0x16];
        p.extend_from_slice(text);
        c.command(&p)?;
        let Some((id, nparams)) = self.prepare_reply(c)? else {
            return Ok(());
        };
        for bind in [true, false] {
            let mut e = vec![0x17];
            e.extend_from_slice(&id.to_le_bytes());
            e.push(0);
            e.extend_from_slice(&1u32.to_le_bytes());
            if nparams > 0 {
                let mut bitmap = vec![0u8; nparams.div_ceil(8)];
                for i in (2..nparams).step_by(4) {
                    bitmap[i / 8] |= 1 << (i % 8);
                }
                e.extend_from_slice(&bitmap);
                e.push(u8::from(bind));
                if bind {
                    for i in 0..nparams {
                        e.extend_from_slice(match i % 4 {
                            1 => &[0xfd, 0],
                            3 => &[0x05, 0],
                            _ => &[0x08, 0],
                        });
                    }
                }
                for i in 0..nparams {
                    match i % 4 {
                        0 => e.extend_from_slice(&42i64.to_le_bytes()),
                        1 => e.extend_from_slice(b"\x01x"),
                        3 => e.extend_from_slice(&1.5f64.to_le_bytes()),
                        _ => {}
                    }
                }
            }
            c.command(&e)?;
            self.response(c, true, false)?;
        }
        let mut close = vec![0x19];
        close.extend_from_slice(&id.to_le_bytes());
        c.command(&close)
    }

    /// The COM_STMT_PREPARE reply: statement id and parameter count, or `None` (ERR).
    fn prepare_reply(&mut self, c: &mut Conn) -> Result<Option<(u32, usize)>, Closed> {
        let r = self.read(c)?;
        match r.first() {
            Some(0xff) => {
                self.err(&r);
                Ok(None)
            }
            Some(0) => {
                assert_eq!(r.len(), 12, "COM_STMT_PREPARE OK: {r:?}");
                let id = u32::from_le_bytes([r[1], r[2], r[3], r[4]]);
                let ncols = usize::from(u16::from_le_bytes([r[5], r[6]]));
                let nparams = usize::from(u16::from_le_bytes([r[7], r[8]]));
                for n in [nparams, ncols] {
                    if n > 0 {
                        for _ in 0..n {
                            let p = self.read(c)?;
                            self.column(&p);
                        }
                        let p = self.read(c)?;
                        self.eof(&p);
                    }
                }
                Ok(Some((id, nparams)))
            }
            _ => panic!("COM_STMT_PREPARE: OK or ERR expected: {r:?}"),
        }
    }

    /// Any command packet, raw.
    fn raw_command(&mut self, c: &mut Conn, packet: &[u8]) -> Result<(), Closed> {
        match packet.first() {
            // COM_QUIT, an empty packet (malformed): the server closes.
            None | Some(0x01) => {
                c.command(packet)?;
                let _ = self.read(c);
                Err(Closed)
            }
            Some(0x03) => {
                c.command(packet)?;
                self.response(c, false, false)
            }
            Some(0x04) => self.field_list(c, &packet[1..]),
            Some(0x09) => {
                c.command(packet)?;
                self.read(c).map(drop)
            }
            Some(0x11) => self.change_user(c, &packet[1..]),
            Some(0x16) => {
                c.command(packet)?;
                self.prepare_reply(c).map(drop)
            }
            Some(0x17) => {
                c.command(packet)?;
                self.response(c, true, true)
            }
            // No reply (COM_STMT_SEND_LONG_DATA, COM_STMT_CLOSE): a ping shows the
            // connection is still in step.
            Some(0x18 | 0x19) => {
                c.command(packet)?;
                self.simple(c, 0x0e, &[])
            }
            Some(_) => {
                c.command(packet)?;
                self.response(c, false, true)
            }
        }
    }

    /// Raw bytes, then the client's side closes: the server must close too.
    fn framing(&mut self, c: &mut Conn, bytes: &[u8]) {
        let _ = c.s.write_all(bytes);
        let _ = c.s.shutdown(std::net::Shutdown::Write);
        let start = Instant::now();
        let mut killed = false;
        let mut buf = [0u8; 4096];
        loop {
            match c.s.read(&mut buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    if !killed {
                        for t in self.shared.threads.all() {
                            t.kill(KillLevel::Query);
                        }
                        killed = true;
                    } else if start.elapsed() > STMT_PATIENCE + KILL_PATIENCE {
                        panic!("hang: the server kept a half-closed connection open");
                    }
                }
                Err(_) => return,
            }
        }
    }
}

impl Drop for Run<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shared().plugins.shutdown();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

enum ReadErr {
    Closed,
    Timeout,
}

/// The client end of one connection.
struct Conn {
    s: UnixStream,
    seq: u8,
    buf: Vec<u8>,
    thread: Option<JoinHandle<()>>,
}

impl Conn {
    /// Starts a command: sequence id 0.
    fn command(&mut self, payload: &[u8]) -> Result<(), Closed> {
        self.seq = 0;
        self.write(payload)
    }

    fn write(&mut self, payload: &[u8]) -> Result<(), Closed> {
        let mut p = Vec::with_capacity(payload.len() + 4);
        p.extend_from_slice(&(payload.len() as u32).to_le_bytes()[..3]);
        p.push(self.seq);
        p.extend_from_slice(payload);
        self.seq = self.seq.wrapping_add(1);
        self.s.write_all(&p).map_err(|_| Closed)
    }

    /// Fills the buffer to `n` bytes.
    fn fill(&mut self, n: usize) -> Result<(), ReadErr> {
        self.s
            .set_read_timeout(Some(STMT_PATIENCE))
            .map_err(|_| ReadErr::Closed)?;
        let mut chunk = [0u8; 16384];
        while self.buf.len() < n {
            match self.s.read(&mut chunk) {
                Ok(0) => return Err(ReadErr::Closed),
                Ok(k) => self.buf.extend_from_slice(&chunk[..k]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(ReadErr::Timeout);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(ReadErr::Closed),
            }
        }
        Ok(())
    }

    /// One logical packet (joined across 16 MiB parts); sequence ids must follow.
    fn read_packet(&mut self) -> Result<Vec<u8>, ReadErr> {
        let mut payload = Vec::new();
        loop {
            self.fill(4)?;
            let len = usize::from(self.buf[0])
                | usize::from(self.buf[1]) << 8
                | usize::from(self.buf[2]) << 16;
            self.fill(4 + len)?;
            assert_eq!(
                self.buf[3], self.seq,
                "server packet sequence id {} where {} was expected",
                self.buf[3], self.seq
            );
            self.seq = self.seq.wrapping_add(1);
            payload.extend_from_slice(&self.buf[4..4 + len]);
            self.buf.drain(..4 + len);
            if len < 0xff_ffff {
                return Ok(payload);
            }
        }
    }

    /// Closes the client side; the session thread must end.
    fn finish(mut self) {
        let _ = self.s.shutdown(std::net::Shutdown::Both);
        drop(self.s);
        if let Some(t) = self.thread.take() {
            let deadline = Instant::now() + KILL_PATIENCE;
            while !t.is_finished() {
                assert!(
                    Instant::now() < deadline,
                    "hang: a session thread did not end after its client closed"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
            t.join().expect("session thread");
        }
    }
}
