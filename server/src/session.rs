//! One connection, served by one OS thread for its whole life: handshake,
//! authentication, then the command loop (`do_command` → `dispatch_command`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mysql_common::constants::{CapabilityFlags, ColumnFlags, ColumnType, StatusFlags};
use mysql_common::io::ParseBuf;
use mysql_common::packets::{AuthSwitchRequest, HandshakePacket, HandshakeResponse};
use mysql_common::proto::MySerialize;
use tracing::info_span;

use crate::datadir::Account;
use crate::error::SqlError;
use crate::hooks::AuditEvent;
use crate::protocol::{Command, PacketIo, ReadError, Reply, Stream, Tracer, command_name};
use crate::server::{Shared, VERSION};
use crate::sql::{Outcome, SqlConn};
use crate::status::{Com, Counter, SessionStatus};
use crate::threads::ThreadInfo;
use crate::vars::SessionVars;
use minnow_plugin_host::abi::{event as tev, stage as tst};

const NATIVE: &str = "mysql_native_password";

/// A prepared statement.
#[derive(Debug)]
pub struct Prepared {
    /// Original text.
    pub text: String,
    /// SQLite text, or `None` for statements Minnow runs itself.
    pub sqlite: Option<String>,
    /// Number of `?` parameters.
    pub params: usize,
    /// Parameter types bound by the client.
    pub types: Vec<(ColumnType, ColumnFlags)>,
    /// COM_STMT_SEND_LONG_DATA buffers.
    pub long_data: Vec<Option<Vec<u8>>>,
    /// Whether it is an INSERT/REPLACE (for the insert id).
    pub is_insert: bool,
}

/// A logged-in session.
#[derive(Debug)]
pub struct Session {
    /// Server state.
    pub shared: Arc<Shared>,
    /// This connection in the thread registry.
    pub thd: Arc<ThreadInfo>,
    /// The authenticated account.
    pub account: Account,
    /// Session overrides of system variables.
    pub vars: SessionVars,
    /// Session status counters.
    pub status: SessionStatus,
    /// SQLite state.
    pub sql: SqlConn,
    /// User variables (`@x`).
    pub user_vars: HashMap<String, crate::protocol::Cell>,
    /// Prepared statements.
    pub stmts: HashMap<u32, Prepared>,
    next_stmt: u32,
    /// Capabilities agreed with the client.
    pub caps: CapabilityFlags,
    salt: [u8; 20],
    /// Set when the session must end after this command.
    pub quit: bool,
    /// `SHUTDOWN` was accepted: stop the server once the reply is sent.
    pub shutdown_after_reply: bool,
    /// `@@session.wait_timeout`, copied from the global value at connect (as in MySQL).
    pub wait_timeout: Option<Duration>,
    /// This connection in the plugin host (audit, bindings).
    pub psess: minnow_plugin_host::Session,
    /// Client IP (for audit events).
    pub ip: String,
    /// Warnings of the last statement (`SHOW WARNINGS`): (code, message).
    pub warnings: Vec<(u16, String)>,
    /// UDF generation this session's SQLite functions match ([`crate::plugins::sync_functions`]).
    pub udf_generation: u64,
    /// UDF names registered on this session's SQLite connection.
    pub udfs: Vec<String>,
    /// `udfs` in lower case, shared with each statement's UDF call-site state.
    pub udf_names: Arc<[String]>,
}

/// `@@wait_timeout` as a socket timeout.
pub fn timeout_of(v: Option<crate::vars::VarValue>) -> Option<Duration> {
    match v {
        Some(crate::vars::VarValue::Int(n)) if n > 0 => Some(Duration::from_secs(n as u64)),
        _ => None,
    }
}

fn server_caps() -> CapabilityFlags {
    CapabilityFlags::CLIENT_LONG_PASSWORD
        | CapabilityFlags::CLIENT_FOUND_ROWS
        | CapabilityFlags::CLIENT_LONG_FLAG
        | CapabilityFlags::CLIENT_CONNECT_WITH_DB
        | CapabilityFlags::CLIENT_NO_SCHEMA
        | CapabilityFlags::CLIENT_ODBC
        | CapabilityFlags::CLIENT_IGNORE_SPACE
        | CapabilityFlags::CLIENT_PROTOCOL_41
        | CapabilityFlags::CLIENT_INTERACTIVE
        | CapabilityFlags::CLIENT_IGNORE_SIGPIPE
        | CapabilityFlags::CLIENT_TRANSACTIONS
        | CapabilityFlags::CLIENT_SECURE_CONNECTION
        | CapabilityFlags::CLIENT_MULTI_STATEMENTS
        | CapabilityFlags::CLIENT_MULTI_RESULTS
        | CapabilityFlags::CLIENT_PS_MULTI_RESULTS
        | CapabilityFlags::CLIENT_PLUGIN_AUTH
        | CapabilityFlags::CLIENT_CONNECT_ATTRS
        | CapabilityFlags::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
}

fn new_salt() -> [u8; 20] {
    let mut s = [0u8; 20];
    if getrandom::fill(&mut s).is_err() {
        let t = Instant::now().elapsed().as_nanos() as u64 ^ std::process::id() as u64;
        for (i, b) in s.iter_mut().enumerate() {
            *b = (t >> (i % 8 * 8)) as u8 ^ (i as u8).wrapping_mul(37);
        }
    }
    // Printable, never NUL or '$', as mysqld generates it.
    for b in &mut s {
        *b = 0x21 + (*b % 0x5d);
        if *b == b'$' {
            *b = b'%';
        }
    }
    s
}

/// Serves one accepted connection until it ends. Runs on its own thread.
pub fn run_connection(shared: Arc<Shared>, stream: Stream, peer: Option<String>, is_local: bool) {
    let id = shared.threads.next_id();
    let host = match &peer {
        Some(p) if is_local => format!("localhost:{}", p.rsplit(':').next().unwrap_or("")),
        Some(p) => p.clone(),
        None => "localhost".to_string(),
    };
    let bare_host = match &peer {
        Some(p) if !is_local => p
            .rsplit_once(':')
            .map(|x| x.0.to_string())
            .unwrap_or_else(|| p.clone()),
        _ => "localhost".to_string(),
    };
    let thd = Arc::new(ThreadInfo::new(id, host.clone(), stream.try_clone().ok()));
    shared.threads.add(Arc::clone(&thd));
    shared.status.connected();
    // Leaves the registry and the counters right even if the session panics.
    let _registered = Registered {
        shared: &shared,
        id,
    };
    crate::debug::connection_thread_start(id);
    let _arm = crate::crash::connection_thread_start(id);
    let _plugin_thread = crate::plugins::enter_connection(&thd);
    let span = info_span!("handle_one_connection", id);
    let _g = span.enter();
    let mut io = PacketIo::new(stream);
    io.set_tracer(Tracer::new(&shared.plugins, u64::from(id)));
    io.trace_event(tst::CONNECTING, tev::CONNECTING);
    let max = shared.vars.global("max_connections").ok();
    let limit = match max {
        Some(crate::vars::VarValue::Int(n)) => n as u64,
        _ => 151,
    };
    let result = if shared.status.threads_connected.load(Ordering::Relaxed) > limit + 1 {
        io.write_err_pre_handshake(&SqlError::new(
            crate::error::code::ER_CON_COUNT_ERROR,
            "Too many connections",
        ));
        let _ = io.flush();
        Err(())
    } else {
        login(&shared, &thd, &mut io, &bare_host, is_local)
    };
    match result {
        Ok(mut sess) => {
            command_loop(&mut sess, &mut io);
            let _ = shared.audit.notify(&AuditEvent::Disconnect { conn_id: id });
            crate::plugins::connection_event(
                &mut sess.psess,
                minnow_plugin_host::ConnectionSubclass::Disconnect,
                0,
                &sess.account.user,
                &sess.thd.host,
                &sess.ip,
            );
            sess.psess.release();
        }
        Err(()) => {
            shared
                .status
                .aborted_connects
                .fetch_add(1, Ordering::Relaxed);
        }
    }
    log_trace_drop(&shared, id, &io);
    io.trace_event(tst::DISCONNECTED, tev::DISCONNECTED);
    drop(_g);
}

/// Says in the error log why a protocol trace plugin dropped the connection.
fn log_trace_drop(shared: &Shared, id: u32, io: &PacketIo) {
    if let Some(why) = io.trace_dropped() {
        shared.errlog.line(
            id,
            "Warning",
            &format!("Connection {id} dropped by a protocol trace plugin: {why}"),
        );
    }
}

/// Unregisters a connection when its thread ends, normally or by panic.
struct Registered<'a> {
    shared: &'a Shared,
    id: u32,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.shared
            .status
            .threads_connected
            .fetch_sub(1, Ordering::Relaxed);
        self.shared.threads.remove(self.id);
        crate::debug::connection_thread_end();
    }
}

fn login(
    shared: &Arc<Shared>,
    thd: &Arc<ThreadInfo>,
    io: &mut PacketIo,
    host: &str,
    is_local: bool,
) -> Result<Session, ()> {
    let id = thd.id;
    if let Err(e) = shared
        .audit
        .notify(&AuditEvent::PreAuth { conn_id: id, host })
    {
        io.write_err(&e);
        let _ = io.flush();
        return Err(());
    }
    let ip = crate::plugins::peer_ip(thd, host);
    let mut psess = shared.plugins.session(u64::from(id));
    if let Err(e) = psess.audit_connection(&minnow_plugin_host::ConnectionEvent {
        subclass: minnow_plugin_host::ConnectionSubclass::PreAuthenticate,
        status: 0,
        connection_id: u64::from(id),
        user: "",
        host,
        ip: &ip,
        database: "",
    }) {
        psess.release();
        shared.errlog.line(
            id,
            "Warning",
            &format!("Connection from {host} refused by a plugin: {e}"),
        );
        io.write_err_pre_handshake(&crate::plugins::sql_error(&e));
        let _ = io.flush();
        return Err(());
    }
    let salt = new_salt();
    let mut part2 = salt[8..].to_vec();
    part2.push(0);
    let hs = HandshakePacket::new(
        10,
        VERSION.as_bytes(),
        id,
        salt[..8].try_into().unwrap_or([0; 8]),
        Some(part2),
        server_caps(),
        45,
        StatusFlags::SERVER_STATUS_AUTOCOMMIT,
        Some(NATIVE.as_bytes()),
    );
    let mut buf = Vec::new();
    hs.serialize(&mut buf);
    io.set_stage(tst::WAIT_FOR_INIT_PACKET);
    io.write_packet(&buf);
    if io.flush().is_err() {
        return Err(());
    }
    // The host masks every byte traced at stage AUTHENTICATE.
    io.set_stage(tst::AUTHENTICATE);
    let pkt = io.read_packet().map_err(|_| ())?;
    if io.trace_dropped().is_some() {
        return Err(());
    }
    let resp: HandshakeResponse<'_> = match ParseBuf(&pkt).parse(()) {
        Ok(r) => r,
        Err(e) => {
            io.write_err(&SqlError::new(
                crate::error::code::ER_MALFORMED_PACKET,
                format!("Malformed handshake response: {e}"),
            ));
            let _ = io.flush();
            return Err(());
        }
    };
    let caps = resp.capabilities() & server_caps();
    let user = String::from_utf8_lossy(resp.user()).into_owned();
    let db = resp
        .db_name()
        .filter(|d| !d.is_empty())
        .map(|d| String::from_utf8_lossy(d).into_owned());
    let mut token = resp.scramble_buf().to_vec();
    // The account's authentication plugin decides the client plugin.
    let found = shared.datadir.find_account(&user, host, is_local);
    let acc_plugin = found
        .as_ref()
        .map(|a| crate::plugins::account_plugin(shared, a))
        .unwrap_or_else(|| NATIVE.to_string());
    let client_plugin =
        crate::plugins::client_plugin(shared, &acc_plugin).unwrap_or_else(|| NATIVE.to_string());
    let sent = match resp.auth_plugin() {
        None => NATIVE.as_bytes().to_vec(),
        Some(p) => p.as_bytes().to_vec(),
    };
    if sent != client_plugin.as_bytes() {
        let sw = AuthSwitchRequest::new(client_plugin.as_bytes(), {
            let mut d = salt.to_vec();
            d.push(0);
            d
        });
        let mut b = Vec::new();
        sw.serialize(&mut b);
        io.write_packet(&b);
        if io.flush().is_err() {
            return Err(());
        }
        token = io.read_packet().map_err(|_| ())?;
        if io.trace_dropped().is_some() {
            return Err(());
        }
    }
    let denied = SqlError::access_denied(&user, host, !token.is_empty());
    let account = match found {
        Some(acc) => match crate::plugins::authenticate_account(
            &mut psess,
            &acc,
            &acc_plugin,
            &user,
            host,
            &salt,
            &token,
        ) {
            Ok(true) => Ok(acc),
            Ok(false) => Err(denied),
            Err(e) => Err(e),
        },
        None => Err(denied),
    };
    let account = match account {
        Ok(a) => a,
        Err(e) => {
            let _ = shared.audit.notify(&AuditEvent::Connect {
                conn_id: id,
                user: &user,
                host,
                error: e.code,
            });
            crate::plugins::connection_event(
                &mut psess,
                minnow_plugin_host::ConnectionSubclass::Connect,
                i32::from(e.code),
                &user,
                host,
                &ip,
            );
            psess.release();
            shared.errlog.line(
                id,
                "Warning",
                &format!("Access denied for user '{user}'@'{host}'"),
            );
            io.write_err(&e);
            let _ = io.flush();
            return Err(());
        }
    };
    let sql = match SqlConn::open(shared, thd, None) {
        Ok(s) => s,
        Err(e) => {
            io.write_err(&e);
            let _ = io.flush();
            return Err(());
        }
    };
    let mut sess = Session {
        shared: Arc::clone(shared),
        thd: Arc::clone(thd),
        account,
        vars: shared.vars.session_defaults(),
        status: SessionStatus::default(),
        sql,
        user_vars: HashMap::new(),
        stmts: HashMap::new(),
        next_stmt: 1,
        caps,
        salt,
        quit: false,
        shutdown_after_reply: false,
        wait_timeout: timeout_of(shared.vars.global("wait_timeout").ok()),
        psess,
        ip,
        warnings: Vec::new(),
        udf_generation: 0,
        udfs: Vec::new(),
        udf_names: Arc::from(Vec::new()),
    };
    if let Some(db) = db {
        if let Err(e) = sess.use_db(&db) {
            io.write_err(&e);
            let _ = io.flush();
            return Err(());
        }
    }
    thd.set(|s| {
        s.user = user.clone();
        s.command = "Sleep";
        s.state = "";
        s.since = Instant::now();
    });
    let _ = shared.audit.notify(&AuditEvent::Connect {
        conn_id: id,
        user: &user,
        host,
        error: 0,
    });
    crate::plugins::connection_event(
        &mut sess.psess,
        minnow_plugin_host::ConnectionSubclass::Connect,
        0,
        &user,
        host,
        &sess.ip,
    );
    sess.psess.release();
    io.write_ok(0, 0, sess.status_flags(), "");
    io.trace_event(tst::AUTHENTICATE, tev::AUTHENTICATED);
    if io.flush().is_err() {
        return Err(());
    }
    Ok(sess)
}

fn command_loop(sess: &mut Session, io: &mut PacketIo) {
    let mut current_timeout = None;
    loop {
        if sess.quit || sess.thd.is_conn_killed() {
            break;
        }
        let timeout = sess.wait_timeout;
        if timeout != current_timeout {
            let _ = io.stream().set_read_timeout(timeout);
            current_timeout = timeout;
        }
        // MySQL's binding rule: a session holds no plugin while it waits.
        sess.psess.release();
        io.begin_command();
        let pkt = match io.read_packet() {
            Ok(p) => p,
            Err(ReadError::Closed) => {
                if !sess.thd.is_conn_killed() {
                    sess.shared
                        .status
                        .aborted_clients
                        .fetch_add(1, Ordering::Relaxed);
                }
                break;
            }
            Err(ReadError::Io(_)) | Err(ReadError::Malformed(_)) => {
                sess.shared
                    .status
                    .aborted_clients
                    .fetch_add(1, Ordering::Relaxed);
                break;
            }
            Err(ReadError::TooLarge) => {
                io.write_err(&SqlError::new(
                    crate::error::code::ER_NET_PACKET_TOO_LARGE,
                    "Got a packet bigger than 'max_allowed_packet' bytes",
                ));
                let _ = io.flush();
                sess.shared
                    .status
                    .aborted_clients
                    .fetch_add(1, Ordering::Relaxed);
                break;
            }
        };
        if io.trace_dropped().is_some() {
            break;
        }
        let ok = do_command(sess, io, pkt);
        let sh = &sess.shared;
        let (rx, tx) = (io.bytes_received, io.bytes_sent);
        io.bytes_received = 0;
        io.bytes_sent = 0;
        sh.status.add(&mut sess.status, Counter::BytesReceived, rx);
        sh.status.add(&mut sess.status, Counter::BytesSent, tx);
        if !ok {
            break;
        }
    }
    sess.sql.rollback_open();
}

/// Reads one command and answers it. `false` ends the connection.
fn do_command(sess: &mut Session, io: &mut PacketIo, pkt: Vec<u8>) -> bool {
    let _frame = crate::debug::Scope::enter("do_command");
    let cmd = match Command::from_packet(pkt) {
        Ok(c) => c,
        Err(why) => {
            crate::debug::stmt_print!("error", "malformed packet: {why}");
            sess.shared
                .status
                .aborted_clients
                .fetch_add(1, Ordering::Relaxed);
            sess.shared.errlog.line(
                sess.thd.id,
                "Warning",
                &format!(
                    "Aborted connection {} (malformed packet: {why})",
                    sess.thd.id
                ),
            );
            return false;
        }
    };
    if matches!(cmd, Command::Quit) {
        return false;
    }
    // Fault injection: a bug that panics on a session thread. The accept loop's
    // catch_unwind must keep the server serving (tests/sql_robustness.rs).
    if crate::debug::execute_if("panic_dispatch_command") {
        panic!("panic_dispatch_command: panicking on purpose (DBUG fault injection)");
    }
    // A KILL QUERY that arrived while the session was idle has nothing to stop.
    sess.thd.clear_query_kill();
    sess.shared
        .status
        .threads_running
        .fetch_add(1, Ordering::Relaxed);
    let name = command_name(&cmd);
    sess.thd.set(|s| {
        s.command = name;
        s.since = Instant::now();
        s.state = "starting";
    });
    dispatch_command(sess, Reply::new(io), cmd);
    sess.thd.set(|s| {
        s.command = "Sleep";
        s.since = Instant::now();
        s.state = "";
        s.info = None;
    });
    sess.shared
        .status
        .threads_running
        .fetch_sub(1, Ordering::Relaxed);
    let flushed = io.flush();
    if sess.shutdown_after_reply {
        sess.shared.shutdown.trigger();
    }
    if flushed.is_err() {
        sess.shared
            .status
            .aborted_clients
            .fetch_add(1, Ordering::Relaxed);
        return false;
    }
    true
}

fn dispatch_command(sess: &mut Session, reply: Reply<'_>, cmd: Command) {
    let _frame = crate::debug::Scope::enter("dispatch_command");
    let sh = Arc::clone(&sess.shared);
    match cmd {
        Command::Quit => reply.none(),
        Command::Query(q) => {
            sh.status.add(&mut sess.status, Counter::Questions, 1);
            sh.status.add(&mut sess.status, Counter::Queries, 1);
            crate::crash::set_query(&q);
            sh.general_log(sess.thd.id, "Query", &q);
            sess.thd.set(|s| {
                s.info = Some(q.clone());
                s.state = "executing";
            });
            if sess.caps.contains(CapabilityFlags::CLIENT_MULTI_STATEMENTS) {
                sess.run_multi(reply, &q);
            } else {
                let r = sess.run_statement(&q);
                sess.respond(reply, r, false);
            }
            crate::crash::clear_query();
        }
        Command::InitDb(db) => {
            sh.status.add(&mut sess.status, Counter::Questions, 1);
            sh.status
                .add(&mut sess.status, Counter::Com(Com::ChangeDb), 1);
            sh.general_log(sess.thd.id, "Init DB", &db);
            let r = sess.use_db(&db).map(|_| Outcome::ok(0));
            sess.respond(reply, r, false);
        }
        Command::Ping => reply.ok(0, 0, sess.status_flags(), ""),
        Command::Statistics => reply.raw(sh.status.statistics_line().as_bytes()),
        Command::FieldList(table) => {
            sh.status.add(&mut sess.status, Counter::Questions, 1);
            sh.status
                .add(&mut sess.status, Counter::Com(Com::ShowFields), 1);
            match sess.field_list(&table) {
                Ok(cols) => reply.columns(&cols, sess.status_flags()),
                Err(e) => reply.err(&e),
            }
        }
        Command::ProcessKill(id) => {
            let r = sess
                .kill(id, crate::threads::KillLevel::Connection)
                .map(|_| Outcome::ok(0));
            sess.respond(reply, r, false);
        }
        Command::ProcessInfo => {
            let r = sess.run_statement("SHOW PROCESSLIST");
            sess.respond(reply, r, false);
        }
        Command::Refresh(flags) => {
            // mysql_refresh(): the FLUSH statement for the flags (REFRESH_LOG = 2 →
            // FLUSH LOGS; the others have nothing to flush here), RELOAD required.
            sh.status.add(&mut sess.status, Counter::Questions, 1);
            let what = if flags & 2 != 0 {
                "FLUSH LOGS"
            } else {
                "FLUSH TABLES"
            };
            let r = sess.run_statement(what);
            sess.respond(reply, r, false);
        }
        Command::Shutdown => {
            let r = sess.shutdown_server().map(|_| Outcome::ok(0));
            sess.respond(reply, r, false);
        }
        Command::Debug => {
            if sess.account.super_priv {
                sess.debug_dump();
                reply.eof(sess.status_flags());
            } else {
                reply.err(&SqlError::access_denied_priv("SUPER"));
            }
        }
        Command::ChangeUser(payload) => {
            let mut reply = reply;
            let r = sess.change_user(reply.io(), &payload);
            match r {
                Ok(()) => reply.ok(0, 0, sess.status_flags(), ""),
                Err(e) => {
                    reply.err(&e);
                    sess.quit = true;
                }
            }
        }
        Command::ResetConnection => {
            sess.reset();
            reply.ok(0, 0, sess.status_flags(), "");
        }
        Command::StmtPrepare(q) => {
            sh.status.add(&mut sess.status, Counter::Queries, 1);
            sh.status
                .add(&mut sess.status, Counter::Com(Com::StmtPrepare), 1);
            sh.general_log(sess.thd.id, "Prepare", &q);
            sess.prepare(reply, q);
        }
        Command::StmtExecute(payload) => {
            sh.status.add(&mut sess.status, Counter::Questions, 1);
            sh.status.add(&mut sess.status, Counter::Queries, 1);
            sh.status
                .add(&mut sess.status, Counter::Com(Com::StmtExecute), 1);
            let r = sess.execute_prepared(&payload);
            sess.respond(reply, r, true);
        }
        Command::StmtSendLongData(id, param, data) => {
            if let Some(st) = sess.stmts.get_mut(&id) {
                if let Some(slot) = st.long_data.get_mut(usize::from(param)) {
                    slot.get_or_insert_with(Vec::new).extend_from_slice(&data);
                }
            }
            reply.none();
        }
        Command::StmtClose(id) => {
            sh.status
                .add(&mut sess.status, Counter::Com(Com::StmtClose), 1);
            sess.stmts.remove(&id);
            reply.none();
        }
        Command::StmtReset(id) => {
            sh.status
                .add(&mut sess.status, Counter::Com(Com::StmtReset), 1);
            match sess.stmts.get_mut(&id) {
                Some(st) => {
                    st.long_data.iter_mut().for_each(|d| *d = None);
                    reply.ok(0, 0, sess.status_flags(), "");
                }
                None => reply.err(&unknown_stmt(id, "mysqld_stmt_reset")),
            }
        }
        // MYSQL_OPTION_MULTI_STATEMENTS_ON / _OFF
        Command::SetOption(0) => {
            sess.caps.insert(CapabilityFlags::CLIENT_MULTI_STATEMENTS);
            reply.eof(sess.status_flags())
        }
        Command::SetOption(1) => {
            sess.caps.remove(CapabilityFlags::CLIENT_MULTI_STATEMENTS);
            reply.eof(sess.status_flags())
        }
        Command::SetOption(o) => reply.err(&SqlError::new(
            crate::error::code::ER_UNKNOWN_COM_ERROR,
            format!("Unknown option {o} for COM_SET_OPTION"),
        )),
        Command::Unknown(b) => {
            crate::debug::stmt_print!("error", "unknown command 0x{b:02x}");
            reply.err(&SqlError::unknown_command())
        }
    }
}

/// Splits a query text at top-level `;` with sqlparser's tokenizer (a `;` in
/// a string, quoted name or comment does not split). Pieces holding only
/// whitespace and comments are dropped. A text the tokenizer rejects stays
/// whole, so that running it reports the error.
pub fn split_statements(q: &str) -> Vec<&str> {
    use sqlparser::tokenizer::{Location, Token};
    // Fast path (most statements; mariadb-slap and many connectors always ask
    // for multi-statements): nothing that could split or be only a comment, so
    // no tokenizing (it cost a third of the server's work per INSERT).
    if !q.contains([';', '#']) && !q.contains("--") && !q.contains("/*") {
        return if q.trim().is_empty() { vec![] } else { vec![q] };
    }
    let Ok(toks) = crate::sql::rewrite::tokenize(q) else {
        return vec![q];
    };
    // Token locations are 1-based (line, character column): map to byte offsets.
    let mut line_starts = vec![0usize];
    line_starts.extend(q.match_indices('\n').map(|(i, _)| i + 1));
    let offset = |loc: Location| -> Option<usize> {
        let line = usize::try_from(loc.line).ok()?.checked_sub(1)?;
        let col = usize::try_from(loc.column).ok()?.checked_sub(1)?;
        let start = *line_starts.get(line)?;
        let rest = q.get(start..)?;
        Some(start + rest.char_indices().nth(col).map_or(rest.len(), |(b, _)| b))
    };
    let mut parts = Vec::new();
    let mut start = 0usize;
    let mut has_content = false;
    for t in &toks {
        match &t.token {
            Token::SemiColon => {
                let Some(end) = offset(t.span.start) else {
                    return vec![q];
                };
                if has_content {
                    match q.get(start..end) {
                        Some(p) => parts.push(p),
                        None => return vec![q],
                    }
                }
                start = end + 1;
                has_content = false;
            }
            Token::Whitespace(_) => {}
            _ => has_content = true,
        }
    }
    if has_content {
        match q.get(start..) {
            Some(p) => parts.push(p),
            None => return vec![q],
        }
    }
    if parts.is_empty() {
        parts.push(q);
    }
    parts
}

fn unknown_stmt(id: u32, what: &str) -> SqlError {
    SqlError::new(
        crate::error::code::ER_UNKNOWN_STMT_HANDLER,
        format!("Unknown prepared statement handler ({id}) given to {what}"),
    )
}

impl Session {
    /// Server status flags for OK/EOF packets.
    pub fn status_flags(&self) -> StatusFlags {
        let mut f = StatusFlags::empty();
        if self.sql.autocommit {
            f |= StatusFlags::SERVER_STATUS_AUTOCOMMIT;
        }
        if self.sql.in_transaction() {
            f |= StatusFlags::SERVER_STATUS_IN_TRANS;
        }
        f
    }

    /// COM_QUERY with CLIENT_MULTI_STATEMENTS: each `;`-separated statement
    /// in order, SERVER_MORE_RESULTS_EXISTS on every answer but the last; the
    /// first error ends the batch.
    fn run_multi(&mut self, mut reply: Reply<'_>, q: &str) {
        let parts = split_statements(q);
        if parts.len() <= 1 {
            let r = self.run_statement(q);
            return self.respond(reply, r, false);
        }
        let last = parts.len() - 1;
        for (i, part) in parts.into_iter().enumerate() {
            let r = self.run_statement(part);
            let failed = r.is_err();
            if i == last || failed {
                return self.respond(reply, r, false);
            }
            self.shared
                .status
                .add(&mut self.status, Counter::Queries, 1);
            let sub = Reply::new(reply.io());
            self.respond_flags(sub, r, false, StatusFlags::SERVER_MORE_RESULTS_EXISTS);
        }
        reply.none()
    }

    fn respond(&mut self, reply: Reply<'_>, r: Result<Outcome, SqlError>, binary: bool) {
        self.respond_flags(reply, r, binary, StatusFlags::empty())
    }

    fn respond_flags(
        &mut self,
        reply: Reply<'_>,
        r: Result<Outcome, SqlError>,
        binary: bool,
        extra: StatusFlags,
    ) {
        match r {
            Ok(Outcome::Ok {
                affected,
                insert_id,
                info,
            }) => reply.ok_warnings(
                affected,
                insert_id,
                self.status_flags() | extra,
                u16::try_from(self.warnings.len()).unwrap_or(u16::MAX),
                &info,
            ),
            Ok(Outcome::Rows(rs)) => reply.rows(&rs, binary, self.status_flags() | extra),
            Err(e) => {
                if e.code == crate::error::code::ER_QUERY_INTERRUPTED {
                    self.thd.clear_query_kill();
                }
                crate::debug::stmt_print!("error", "{} code={}", e.message, e.code);
                reply.err(&e)
            }
        }
    }

    fn prepare(&mut self, reply: Reply<'_>, q: String) {
        crate::plugins::sync_functions(self);
        match self.prepare_statement(&q) {
            Ok((prep, cols, param_count)) => {
                let id = self.next_stmt;
                self.next_stmt = self.next_stmt.wrapping_add(1).max(1);
                reply.prepared(id, &cols, param_count, self.status_flags());
                self.stmts.insert(id, prep);
            }
            Err(e) => reply.err(&e),
        }
    }

    fn execute_prepared(&mut self, payload: &[u8]) -> Result<Outcome, SqlError> {
        let id = u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]);
        let mut st = self
            .stmts
            .remove(&id)
            .ok_or_else(|| unknown_stmt(id, "mysqld_stmt_execute"))?;
        let params = crate::protocol::parse_execute_params(
            payload,
            st.params,
            &mut st.types,
            &mut st.long_data,
        )
        .map_err(|m| SqlError::new(crate::error::code::ER_MALFORMED_PACKET, m));
        crate::crash::set_query(&st.text);
        self.shared.general_log(self.thd.id, "Execute", &st.text);
        self.thd.set(|s| {
            s.info = Some(st.text.clone());
            s.state = "executing";
        });
        let r = params.and_then(|p| self.run_prepared(&st, &p));
        crate::crash::clear_query();
        self.stmts.insert(id, st);
        r
    }

    fn change_user(&mut self, io: &mut PacketIo, payload: &[u8]) -> Result<(), SqlError> {
        let malformed = || {
            SqlError::new(
                crate::error::code::ER_MALFORMED_PACKET,
                "Malformed COM_CHANGE_USER packet",
            )
        };
        let mut pb = ParseBuf(payload.get(1..).ok_or_else(malformed)?);
        let user = String::from_utf8_lossy(pb.eat_null_str()).into_owned();
        let auth_len = pb.checked_eat_u8().ok_or_else(malformed)?;
        let mut token = pb
            .checked_eat(usize::from(auth_len))
            .ok_or_else(malformed)?
            .to_vec();
        let db = String::from_utf8_lossy(pb.eat_null_str()).into_owned();
        let _charset = pb.checked_eat_u16_le();
        let plugin = if pb.is_empty() {
            NATIVE.as_bytes()
        } else {
            pb.eat_null_str()
        };
        let host = self
            .thd
            .host
            .split(':')
            .next()
            .unwrap_or("localhost")
            .to_string();
        let is_local = host == "localhost";
        // The account's authentication plugin decides the client plugin.
        let found = self.shared.datadir.find_account(&user, &host, is_local);
        let acc_plugin = found
            .as_ref()
            .map(|a| crate::plugins::account_plugin(&self.shared, a))
            .unwrap_or_else(|| NATIVE.to_string());
        let client_plugin = crate::plugins::client_plugin(&self.shared, &acc_plugin)
            .unwrap_or_else(|| NATIVE.to_string());
        if plugin != client_plugin.as_bytes() {
            let mut d = self.salt.to_vec();
            d.push(0);
            let sw = AuthSwitchRequest::new(client_plugin.as_bytes(), d);
            let mut b = Vec::new();
            sw.serialize(&mut b);
            io.write_packet(&b);
            io.flush().map_err(|e| SqlError::internal(e.to_string()))?;
            token = io.read_packet().map_err(|_| malformed())?;
        }
        let denied = SqlError::access_denied(&user, &host, !token.is_empty());
        let salt = self.salt;
        let acc = match found {
            Some(acc) => match crate::plugins::authenticate_account(
                &mut self.psess,
                &acc,
                &acc_plugin,
                &user,
                &host,
                &salt,
                &token,
            ) {
                Ok(true) => Ok(acc),
                Ok(false) => Err(denied),
                Err(e) => Err(e),
            },
            None => Err(denied),
        };
        let acc = match acc {
            Ok(a) => a,
            Err(e) => {
                self.shared
                    .status
                    .aborted_connects
                    .fetch_add(1, Ordering::Relaxed);
                return Err(e);
            }
        };
        self.account = acc;
        self.reset();
        self.thd.set(|s| s.user = user.clone());
        let _ = self.shared.audit.notify(&AuditEvent::ChangeUser {
            conn_id: self.thd.id,
            user: &user,
        });
        let thd_host = self.thd.host.clone();
        crate::plugins::connection_event(
            &mut self.psess,
            minnow_plugin_host::ConnectionSubclass::ChangeUser,
            0,
            &user,
            &thd_host,
            &self.ip,
        );
        if !db.is_empty() {
            self.use_db(&db)?;
        }
        Ok(())
    }

    /// COM_RESET_CONNECTION: session state back to defaults, same user and db.
    pub fn reset(&mut self) {
        self.sql.rollback_open();
        self.vars = self.shared.vars.session_defaults();
        self.wait_timeout = timeout_of(self.shared.vars.global("wait_timeout").ok());
        crate::debug::reset_session();
        self.user_vars.clear();
        self.stmts.clear();
        self.sql.autocommit = true;
    }
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn statements_split_at_top_level_semicolons_only() {
        assert_eq!(split_statements("SELECT 1"), ["SELECT 1"]);
        assert_eq!(
            split_statements("SELECT '2024-01-01' - 1"),
            ["SELECT '2024-01-01' - 1"]
        );
        assert!(split_statements("   ").is_empty());
        assert_eq!(
            split_statements("SELECT 1; SELECT 2;"),
            ["SELECT 1", " SELECT 2"]
        );
        assert_eq!(split_statements("SELECT ';' ; # x"), ["SELECT ';' "]);
        assert_eq!(split_statements("SELECT 1 -- a; b"), ["SELECT 1 -- a; b"]);
    }
}
