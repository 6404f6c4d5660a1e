//! The MySQL client/server protocol: packet framing, the command enum and
//! response encoding. Packet layouts come from `mysql_common`; framing and the
//! state machine are ours.

use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use mysql_common::constants::{ColumnFlags, ColumnType, StatusFlags};
use mysql_common::io::ParseBuf;
use mysql_common::packets::{ErrPacket, ServerError as MyServerError, SqlState};
use mysql_common::proto::MySerialize;

use crate::error::SqlError;
use minnow_plugin_host::abi::{event as tev, stage as tst};

/// Largest payload of one physical packet.
const MAX_PAYLOAD: usize = 0xff_ffff;

/// A client connection: TCP or Unix socket.
#[derive(Debug)]
pub enum Stream {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix-domain socket connection.
    Unix(UnixStream),
}

impl Stream {
    /// A second handle on the same socket (used to shut it down from `KILL`).
    pub fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
        })
    }
    /// Shuts both directions down; a blocked read in the owner returns.
    pub fn shutdown(&self) {
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
        };
    }
    /// Sets the read timeout (`wait_timeout` while idle).
    pub fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(d),
            Stream::Unix(s) => s.set_read_timeout(d),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why reading a packet failed.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed the connection (or it was shut down).
    Closed,
    /// The socket failed (timeout, reset, …).
    Io(io::Error),
    /// The bytes do not form a valid packet sequence.
    Malformed(String),
    /// The packet exceeds `max_allowed_packet`.
    TooLarge,
}

/// The protocol-trace seam of one connection: every packet [`PacketIo`] reads or
/// queues, and the stage events around them, go to the registry's protocol trace
/// plugins through this connection's own plugin-host session (bound and released
/// like the connection's other bindings: released before waiting for a command).
pub struct Tracer {
    registry: minnow_plugin_host::Registry,
    session: minnow_plugin_host::Session,
    /// Set when a plugin asked to drop the connection; nothing more is traced or sent.
    dropped: Option<String>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("session", &self.session)
            .field("dropped", &self.dropped)
            .finish_non_exhaustive()
    }
}

impl Tracer {
    /// A tracer for connection `connection_id`.
    pub fn new(registry: &minnow_plugin_host::Registry, connection_id: u64) -> Tracer {
        Tracer {
            registry: registry.clone(),
            session: registry.session(connection_id),
            dropped: None,
        }
    }

    /// Reports one event; the host masks authentication payloads.
    #[cold]
    fn report(&mut self, stage: u32, event: u32, packet: &[u8]) {
        if self.dropped.is_some() {
            return;
        }
        if let Err(e) = self.session.protocol_trace(stage, event, packet) {
            self.dropped = Some(e.to_string());
        }
    }
}

/// Packet framing over one stream, with sequence ids and byte counters.
///
/// Every packet goes through [`PacketIo::read_packet`] or the two queueing
/// functions [`PacketIo::write_packet`] / [`PacketIo::write_packet_with`]: that is
/// where the protocol trace sees it, with the current protocol stage (MySQL's
/// `enum protocol_stage`), which the writers of each kind of answer set.
#[derive(Debug)]
pub struct PacketIo {
    reader: BufReader<Stream>,
    out: Vec<u8>,
    seq: u8,
    stage: u32,
    tracer: Option<Tracer>,
    /// Bytes read since the counter was last taken.
    pub bytes_received: u64,
    /// Bytes written since the counter was last taken.
    pub bytes_sent: u64,
    /// Largest accepted logical packet.
    pub max_packet: usize,
    col_cache: Option<ColumnCache>,
}

/// The column definitions last sent: columns, wire types, encoded packets.
type ColumnCache = (Vec<ColDef>, Vec<ColumnType>, Vec<Vec<u8>>);

impl PacketIo {
    /// Wraps a stream.
    pub fn new(stream: Stream) -> Self {
        PacketIo {
            reader: BufReader::with_capacity(16 * 1024, stream),
            out: Vec::with_capacity(16 * 1024),
            seq: 0,
            bytes_received: 0,
            bytes_sent: 0,
            max_packet: 64 << 20,
            col_cache: None,
            stage: tst::CONNECTING,
            tracer: None,
        }
    }

    /// Reports this connection's packets to the protocol trace plugins from now on.
    pub fn set_tracer(&mut self, tracer: Tracer) {
        self.tracer = Some(tracer);
    }

    /// The protocol stage the next packets belong to.
    pub fn set_stage(&mut self, stage: u32) {
        self.stage = stage;
    }

    /// The current protocol stage.
    pub fn stage(&self) -> u32 {
        self.stage
    }

    /// Enters `stage` and reports `event` without a packet (connecting,
    /// authenticated, disconnected).
    pub fn trace_event(&mut self, stage: u32, event: u32) {
        self.stage = stage;
        if let Some(t) = &mut self.tracer
            && t.registry.traces_protocol()
        {
            t.report(stage, event, &[]);
        }
    }

    /// Why a protocol trace plugin dropped the connection, if one did. Once set,
    /// [`PacketIo::flush`] fails and sends nothing.
    pub fn trace_dropped(&self) -> Option<&str> {
        self.tracer.as_ref().and_then(|t| t.dropped.as_deref())
    }

    /// The answer to a command starts (OK, error, EOF, text): WAIT_FOR_RESULT,
    /// unless the command is re-authenticating (COM_CHANGE_USER), whose answer
    /// ends authentication.
    fn result_stage(&mut self) {
        if self.stage != tst::AUTHENTICATE {
            self.stage = tst::WAIT_FOR_RESULT;
        }
    }

    /// The one check per packet: is a trace plugin installed?
    #[inline]
    fn trace_packet(tracer: &mut Option<Tracer>, stage: u32, event: u32, payload: &[u8]) {
        if let Some(t) = tracer
            && t.registry.traces_protocol()
        {
            t.report(stage, event, payload);
        }
    }

    /// The underlying stream.
    pub fn stream(&self) -> &Stream {
        self.reader.get_ref()
    }

    /// Starts a new command: the next packet read must have sequence id 0 and
    /// belongs to stage READY_FOR_COMMAND. The tracer's bindings are released
    /// (MySQL's binding rule: nothing is held while waiting for a command).
    pub fn begin_command(&mut self) {
        self.seq = 0;
        self.stage = tst::READY_FOR_COMMAND;
        if let Some(t) = &mut self.tracer {
            t.session.release();
        }
    }

    /// Reads one logical packet (joining 16 MiB continuation packets).
    pub fn read_packet(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut payload = Vec::new();
        loop {
            let mut hdr = [0u8; 4];
            if let Err(e) = self.reader.read_exact(&mut hdr) {
                return Err(match e.kind() {
                    io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::NotConnected
                    | io::ErrorKind::BrokenPipe
                        if payload.is_empty() =>
                    {
                        ReadError::Closed
                    }
                    io::ErrorKind::UnexpectedEof => {
                        ReadError::Malformed("connection closed inside a packet".into())
                    }
                    _ => ReadError::Io(e),
                });
            }
            let len = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], 0]) as usize;
            if hdr[3] != self.seq {
                return Err(ReadError::Malformed(format!(
                    "packet sequence id {} where {} was expected",
                    hdr[3], self.seq
                )));
            }
            self.seq = self.seq.wrapping_add(1);
            if payload.len() + len > self.max_packet {
                return Err(ReadError::TooLarge);
            }
            let start = payload.len();
            payload.resize(start + len, 0);
            if let Err(e) = self.reader.read_exact(&mut payload[start..]) {
                return Err(match e.kind() {
                    io::ErrorKind::UnexpectedEof => {
                        ReadError::Malformed("connection closed inside a packet".into())
                    }
                    _ => ReadError::Io(e),
                });
            }
            self.bytes_received += 4 + len as u64;
            if len < MAX_PAYLOAD {
                if self.stage == tst::READY_FOR_COMMAND
                    && payload.first() == Some(&com::CHANGE_USER)
                {
                    // COM_CHANGE_USER carries credentials: traced masked but for
                    // its command byte; it starts re-authentication.
                    if self.tracer.is_some() {
                        let mut masked = payload.clone();
                        masked[1..].fill(b'*');
                        Self::trace_packet(
                            &mut self.tracer,
                            self.stage,
                            tev::PACKET_RECEIVED,
                            &masked,
                        );
                    }
                    self.stage = tst::AUTHENTICATE;
                } else {
                    Self::trace_packet(
                        &mut self.tracer,
                        self.stage,
                        tev::PACKET_RECEIVED,
                        &payload,
                    );
                }
                return Ok(payload);
            }
        }
    }

    /// Queues one logical packet (split into 16 MiB pieces as needed).
    pub fn write_packet(&mut self, payload: &[u8]) {
        Self::trace_packet(&mut self.tracer, self.stage, tev::PACKET_SENT, payload);
        let mut rest = payload;
        loop {
            let n = rest.len().min(MAX_PAYLOAD);
            let len = (n as u32).to_le_bytes();
            self.out
                .extend_from_slice(&[len[0], len[1], len[2], self.seq]);
            self.out.extend_from_slice(&rest[..n]);
            self.seq = self.seq.wrapping_add(1);
            rest = &rest[n..];
            if n < MAX_PAYLOAD {
                break;
            }
        }
    }

    /// Queues one packet whose payload `f` appends directly to the output buffer.
    pub fn write_packet_with(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        let start = self.out.len();
        self.out.extend_from_slice(&[0, 0, 0, self.seq]);
        f(&mut self.out);
        let len = self.out.len() - start - 4;
        if len < MAX_PAYLOAD {
            let l = (len as u32).to_le_bytes();
            self.out[start..start + 3].copy_from_slice(&l[..3]);
            self.seq = self.seq.wrapping_add(1);
            Self::trace_packet(
                &mut self.tracer,
                self.stage,
                tev::PACKET_SENT,
                &self.out[start + 4..],
            );
        } else {
            let payload = self.out.split_off(start + 4);
            self.out.truncate(start);
            self.write_packet(&payload);
        }
    }

    /// Sends everything queued.
    pub fn flush(&mut self) -> io::Result<()> {
        if let Some(why) = self.trace_dropped() {
            let e = io::Error::other(format!("dropped by a protocol trace plugin: {why}"));
            self.out.clear();
            return Err(e);
        }
        if self.out.is_empty() {
            return Ok(());
        }
        self.bytes_sent += self.out.len() as u64;
        let r = self.reader.get_mut().write_all(&self.out);
        self.out.clear();
        r
    }

    /// Queues an OK packet.
    pub fn write_ok(&mut self, affected: u64, insert_id: u64, status: StatusFlags, info: &str) {
        self.write_ok_warnings(affected, insert_id, status, 0, info)
    }

    /// Queues an OK packet announcing `warnings` warnings (for `SHOW WARNINGS`).
    pub fn write_ok_warnings(
        &mut self,
        affected: u64,
        insert_id: u64,
        status: StatusFlags,
        warnings: u16,
        info: &str,
    ) {
        let mut p = Vec::with_capacity(16 + info.len());
        p.push(0);
        put_lenenc_int(&mut p, affected);
        put_lenenc_int(&mut p, insert_id);
        p.extend_from_slice(&status.bits().to_le_bytes());
        p.extend_from_slice(&warnings.to_le_bytes());
        p.extend_from_slice(info.as_bytes());
        self.write_packet(&p);
    }

    /// Queues an EOF packet (we never negotiate CLIENT_DEPRECATE_EOF).
    pub fn write_eof(&mut self, status: StatusFlags) {
        let mut p = [0xfe, 0, 0, 0, 0];
        p[3..5].copy_from_slice(&status.bits().to_le_bytes());
        self.write_packet(&p);
    }

    /// Queues an error packet.
    pub fn write_err(&mut self, e: &SqlError) {
        let pkt = ErrPacket::Error(MyServerError::new(
            e.code,
            Some(SqlState::new(e.state)),
            e.message.as_bytes(),
        ));
        let mut buf = Vec::with_capacity(16 + e.message.len());
        pkt.serialize(&mut buf);
        self.write_packet(&buf);
    }

    /// Queues an error packet without SQLSTATE (before the handshake, when the
    /// client's capabilities are not known yet).
    pub fn write_err_pre_handshake(&mut self, e: &SqlError) {
        let pkt = ErrPacket::Error(MyServerError::new(e.code, None, e.message.as_bytes()));
        let mut buf = Vec::with_capacity(16 + e.message.len());
        pkt.serialize(&mut buf);
        self.write_packet(&buf);
    }

    /// Queues a result set: column count, column definitions, EOF, rows, EOF.
    pub fn write_result_set(&mut self, rs: &ResultSet, binary: bool, status: StatusFlags) {
        let mut p = Vec::with_capacity(64);
        put_lenenc_int(&mut p, rs.columns.len() as u64);
        self.stage = tst::WAIT_FOR_RESULT;
        self.write_packet(&p);
        self.stage = tst::WAIT_FOR_FIELD_DEF;
        let types: Vec<ColumnType> = rs
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| if binary { binary_type(c, rs, i) } else { c.ty })
            .collect();
        // Column definitions of the previous result set are reused when equal:
        // a client repeating a statement gets the same bytes without re-encoding.
        let cached = self
            .col_cache
            .as_ref()
            .is_some_and(|(cols, tys, _)| *cols == rs.columns && *tys == types);
        if !cached {
            let payloads = rs
                .columns
                .iter()
                .zip(&types)
                .map(|(c, ty)| {
                    let mut b = Vec::with_capacity(64);
                    c.encode(*ty, &mut b);
                    b
                })
                .collect();
            self.col_cache = Some((rs.columns.clone(), types.clone(), payloads));
        }
        if let Some(cache) = self.col_cache.take() {
            for b in &cache.2 {
                self.write_packet(b);
            }
            self.col_cache = Some(cache);
        }
        self.write_eof(status);
        self.stage = tst::WAIT_FOR_ROW;
        for row in &rs.rows {
            self.write_packet_with(|p| {
                if binary {
                    encode_binary_row(p, row, &types);
                } else {
                    encode_text_row(p, row);
                }
            });
        }
        self.write_eof(status);
    }

    /// Queues column definitions followed by EOF (prepare and field list).
    pub fn write_column_defs(&mut self, cols: &[ColDef], status: StatusFlags) {
        let mut p = Vec::with_capacity(64);
        for c in cols {
            p.clear();
            c.encode(c.ty, &mut p);
            self.write_packet(&p);
        }
        self.write_eof(status);
    }
}

/// The answer to one command. Consumed by value, so a command cannot be
/// answered twice; `#[must_use]` makes a forgotten answer a warning (and,
/// with `-D warnings`, an error). Commands that get no answer say so with
/// [`Reply::none`].
#[must_use = "every command gets exactly one answer, or an explicit `none()`"]
#[derive(Debug)]
pub struct Reply<'a> {
    io: &'a mut PacketIo,
}

impl<'a> Reply<'a> {
    /// The reply to the command just read from `io`.
    pub fn new(io: &'a mut PacketIo) -> Self {
        Reply { io }
    }
    /// The connection, for exchanges inside one command (an authentication
    /// switch during COM_CHANGE_USER).
    pub fn io(&mut self) -> &mut PacketIo {
        self.io
    }
    /// An OK packet.
    pub fn ok(self, affected: u64, insert_id: u64, status: StatusFlags, info: &str) {
        self.io.result_stage();
        self.io.write_ok(affected, insert_id, status, info)
    }
    /// An OK packet with a warning count.
    pub fn ok_warnings(
        self,
        affected: u64,
        insert_id: u64,
        status: StatusFlags,
        warnings: u16,
        info: &str,
    ) {
        self.io.result_stage();
        self.io
            .write_ok_warnings(affected, insert_id, status, warnings, info)
    }
    /// An error packet.
    pub fn err(self, e: &SqlError) {
        self.io.result_stage();
        self.io.write_err(e)
    }
    /// A bare EOF packet (COM_DEBUG, COM_SET_OPTION).
    pub fn eof(self, status: StatusFlags) {
        self.io.result_stage();
        self.io.write_eof(status)
    }
    /// A result set, text or binary protocol.
    pub fn rows(self, rs: &ResultSet, binary: bool, status: StatusFlags) {
        self.io.write_result_set(rs, binary, status)
    }
    /// Column definitions and EOF (COM_FIELD_LIST).
    pub fn columns(self, cols: &[ColDef], status: StatusFlags) {
        self.io.set_stage(tst::WAIT_FOR_FIELD_DEF);
        self.io.write_column_defs(cols, status)
    }
    /// A raw packet (COM_STATISTICS's text line).
    pub fn raw(self, payload: &[u8]) {
        self.io.result_stage();
        self.io.write_packet(payload)
    }
    /// COM_STMT_PREPARE's answer: statement id, parameter and column definitions.
    pub fn prepared(self, id: u32, cols: &[ColDef], params: usize, status: StatusFlags) {
        let mut p = vec![0u8];
        p.extend_from_slice(&id.to_le_bytes());
        p.extend_from_slice(&(cols.len() as u16).to_le_bytes());
        p.extend_from_slice(&(params as u16).to_le_bytes());
        p.push(0);
        p.extend_from_slice(&0u16.to_le_bytes());
        self.io.set_stage(tst::WAIT_FOR_PS_DESCRIPTION);
        self.io.write_packet(&p);
        if params > 0 {
            let defs: Vec<ColDef> = (0..params)
                .map(|_| ColDef::new("?", ColumnType::MYSQL_TYPE_VAR_STRING))
                .collect();
            self.io.set_stage(tst::WAIT_FOR_PARAM_DEF);
            self.io.write_column_defs(&defs, status);
        }
        if !cols.is_empty() {
            self.io.set_stage(tst::WAIT_FOR_COL_DEF);
            self.io.write_column_defs(cols, status);
        }
    }
    /// No answer: the protocol defines none for this command
    /// (COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA, COM_QUIT).
    pub fn none(self) {}
}

/// Appends a length-encoded integer.
pub fn put_lenenc_int(buf: &mut Vec<u8>, v: u64) {
    if v < 251 {
        buf.push(v as u8);
    } else if v < 1 << 16 {
        buf.push(0xfc);
        buf.extend_from_slice(&(v as u16).to_le_bytes());
    } else if v < 1 << 24 {
        buf.push(0xfd);
        buf.extend_from_slice(&(v as u32).to_le_bytes()[..3]);
    } else {
        buf.push(0xfe);
        buf.extend_from_slice(&v.to_le_bytes());
    }
}

/// Appends a length-encoded string.
pub fn put_lenenc_str(buf: &mut Vec<u8>, s: &[u8]) {
    put_lenenc_int(buf, s.len() as u64);
    buf.extend_from_slice(s);
}

/// One cell of a result row.
pub type Cell = rusqlite::types::Value;

/// A column of a result set.
#[derive(Debug, Clone, PartialEq)]
pub struct ColDef {
    /// Column name (alias).
    pub name: String,
    /// Originating table, if any.
    pub table: String,
    /// Originating database, if any.
    pub schema: String,
    /// MySQL column type.
    pub ty: ColumnType,
    /// Length, decimals, flags and character set, when known (typed table
    /// columns and expressions); otherwise defaults for `ty` are sent.
    pub attrs: Option<ColAttrs>,
}

/// The attributes of a column definition besides its type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColAttrs {
    /// Display length (in bytes for character columns).
    pub len: u32,
    /// Decimals (31 for floating point without a scale).
    pub decimals: u8,
    /// Column flags.
    pub flags: ColumnFlags,
    /// Collation id (63 is binary).
    pub charset: u16,
}

impl ColDef {
    /// A column with a name and type and no table.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        ColDef {
            name: name.into(),
            table: String::new(),
            schema: String::new(),
            ty,
            attrs: None,
        }
    }

    /// Appends the column definition packet (`Protocol::ColumnDefinition41`)
    /// for this column sent as `ty`. Written by hand: `mysql_common` 0.35
    /// serializes the column length before the character set (its parser reads
    /// them in the protocol's order), which clients decode as garbage.
    fn encode(&self, ty: ColumnType, p: &mut Vec<u8>) {
        let (charset, len, flags, decimals) = match self.attrs {
            Some(a) if ty == self.ty => (a.charset, a.len, a.flags, a.decimals),
            _ => default_attrs(ty),
        };
        put_lenenc_str(p, b"def");
        put_lenenc_str(p, self.schema.as_bytes());
        put_lenenc_str(p, self.table.as_bytes());
        put_lenenc_str(p, self.table.as_bytes());
        put_lenenc_str(p, self.name.as_bytes());
        put_lenenc_str(p, self.name.as_bytes());
        p.push(0x0c);
        p.extend_from_slice(&charset.to_le_bytes());
        p.extend_from_slice(&len.to_le_bytes());
        p.push(ty as u8);
        p.extend_from_slice(&flags.bits().to_le_bytes());
        p.push(decimals);
        p.extend_from_slice(&[0, 0]);
    }
}

/// Column definition attributes for a column without known ones.
fn default_attrs(ty: ColumnType) -> (u16, u32, ColumnFlags, u8) {
    match ty {
        ColumnType::MYSQL_TYPE_LONGLONG => (63u16, 20u32, ColumnFlags::BINARY_FLAG, 0u8),
        ColumnType::MYSQL_TYPE_LONG => (63, 11, ColumnFlags::BINARY_FLAG, 0),
        ColumnType::MYSQL_TYPE_DOUBLE => (63, 22, ColumnFlags::BINARY_FLAG, 31),
        ColumnType::MYSQL_TYPE_NEWDECIMAL => (63, 65, ColumnFlags::BINARY_FLAG, 30),
        ColumnType::MYSQL_TYPE_BLOB => (
            63,
            65535,
            ColumnFlags::BLOB_FLAG | ColumnFlags::BINARY_FLAG,
            0,
        ),
        ColumnType::MYSQL_TYPE_DATE => (63, 10, ColumnFlags::BINARY_FLAG, 0),
        ColumnType::MYSQL_TYPE_DATETIME => (63, 19, ColumnFlags::BINARY_FLAG, 0),
        ColumnType::MYSQL_TYPE_NULL => (63, 0, ColumnFlags::BINARY_FLAG, 0),
        _ => (45, 1024, ColumnFlags::empty(), 0),
    }
}

/// A complete result set, buffered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultSet {
    /// Column definitions.
    pub columns: Vec<ColDef>,
    /// Rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

/// The type a column is sent with in the binary protocol: its own when every
/// value of the column can be encoded in it, else one that can carry them all
/// (SQLite lets a column hold any value).
fn binary_type(col: &ColDef, rs: &ResultSet, i: usize) -> ColumnType {
    let unsigned = col
        .attrs
        .is_some_and(|a| a.flags.contains(ColumnFlags::UNSIGNED_FLAG));
    let declared = match col.ty {
        // Legacy untyped columns: LONG meant "an integer".
        ColumnType::MYSQL_TYPE_LONG if col.attrs.is_none() => ColumnType::MYSQL_TYPE_LONGLONG,
        t => t,
    };
    if rs
        .rows
        .iter()
        .all(|r| binary_fits(declared, unsigned, &r[i]))
    {
        return declared;
    }
    let all = |f: &dyn Fn(&Cell) -> bool| rs.rows.iter().all(|r| f(&r[i]));
    if all(&|c| matches!(c, Cell::Null | Cell::Integer(_))) {
        ColumnType::MYSQL_TYPE_LONGLONG
    } else if all(&|c| matches!(c, Cell::Null | Cell::Integer(_) | Cell::Real(_))) {
        ColumnType::MYSQL_TYPE_DOUBLE
    } else {
        ColumnType::MYSQL_TYPE_VAR_STRING
    }
}

/// Whether `c` can be sent as a binary-protocol value of type `ty`.
fn binary_fits(ty: ColumnType, unsigned: bool, c: &Cell) -> bool {
    use ColumnType::*;
    let int_in = |v: i64, bits: u32| {
        if unsigned {
            v >= 0 && (bits == 64 || v < (1i64 << bits))
        } else {
            bits == 64 || (v >= -(1i64 << (bits - 1)) && v < (1i64 << (bits - 1)))
        }
    };
    match (ty, c) {
        (_, Cell::Null) => true,
        (MYSQL_TYPE_TINY, Cell::Integer(v)) => int_in(*v, 8),
        (MYSQL_TYPE_SHORT | MYSQL_TYPE_YEAR, Cell::Integer(v)) => int_in(*v, 16),
        (MYSQL_TYPE_LONG | MYSQL_TYPE_INT24, Cell::Integer(v)) => int_in(*v, 32),
        (MYSQL_TYPE_LONGLONG, Cell::Integer(v)) => !unsigned || *v >= 0,
        (MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE, Cell::Integer(_) | Cell::Real(_)) => true,
        (MYSQL_TYPE_DATE | MYSQL_TYPE_DATETIME | MYSQL_TYPE_TIMESTAMP, Cell::Text(t)) => {
            parse_datetime(t).is_some()
        }
        (MYSQL_TYPE_TIME, Cell::Text(t)) => parse_time(t).is_some(),
        (
            MYSQL_TYPE_NEWDECIMAL | MYSQL_TYPE_DECIMAL,
            Cell::Integer(_) | Cell::Real(_) | Cell::Text(_),
        ) => true,
        (
            MYSQL_TYPE_VAR_STRING
            | MYSQL_TYPE_STRING
            | MYSQL_TYPE_VARCHAR
            | MYSQL_TYPE_BLOB
            | MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB
            | MYSQL_TYPE_JSON
            | MYSQL_TYPE_ENUM
            | MYSQL_TYPE_SET
            | MYSQL_TYPE_BIT,
            _,
        ) => true,
        (MYSQL_TYPE_NULL, _) => false,
        _ => false,
    }
}

/// `YYYY-MM-DD[ HH:MM:SS[.ffffff]]` → (y, m, d, h, mi, s, µs).
pub fn parse_datetime(t: &str) -> Option<(u16, u8, u8, u8, u8, u8, u32)> {
    let t = t.trim();
    let (date, time) = match t.split_once([' ', 'T']) {
        Some((d, tm)) => (d, Some(tm)),
        None => (t, None),
    };
    let mut d = date.splitn(3, '-');
    let y: u16 = d.next()?.parse().ok()?;
    let m: u8 = d.next()?.parse().ok()?;
    let day: u8 = d.next()?.parse().ok()?;
    if m > 12 || day > 31 {
        return None;
    }
    let (h, mi, s, us) = match time {
        Some(tm) => {
            let (neg, h, mi, s, us) = parse_time(tm)?;
            if neg || h > 23 {
                return None;
            }
            (h as u8, mi, s, us)
        }
        None => (0, 0, 0, 0),
    };
    Some((y, m, day, h, mi, s, us))
}

/// `[-]H…:MM:SS[.ffffff]` → (negative, hours, minutes, seconds, µs).
pub fn parse_time(t: &str) -> Option<(bool, u32, u8, u8, u32)> {
    let t = t.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let (hms, frac) = match t.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (t, None),
    };
    let mut p = hms.splitn(3, ':');
    let h: u32 = p.next()?.parse().ok()?;
    let mi: u8 = p.next()?.parse().ok()?;
    let s: u8 = p.next()?.parse().ok()?;
    if mi > 59 || s > 59 || h > 838 {
        return None;
    }
    let us = match frac {
        Some(f) if !f.is_empty() && f.len() <= 6 && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<u32>().ok()? * 10u32.pow(6 - f.len() as u32)
        }
        Some(_) => return None,
        None => 0,
    };
    Some((neg, h, mi, s, us))
}

fn cell_text(c: &Cell) -> Option<std::borrow::Cow<'_, [u8]>> {
    use std::borrow::Cow;
    match c {
        Cell::Null => None,
        Cell::Integer(i) => Some(Cow::Owned(i.to_string().into_bytes())),
        Cell::Real(f) => Some(Cow::Owned(format_double(*f).into_bytes())),
        Cell::Text(s) => Some(Cow::Borrowed(s.as_bytes())),
        Cell::Blob(b) => Some(Cow::Borrowed(b.as_slice())),
    }
}

/// Formats a double the way MySQL prints it (`1`, `1.5`, `1e100`).
pub fn format_double(f: f64) -> String {
    if f.is_finite() && f == f.trunc() && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else if f.is_finite() && (f.abs() >= 1e15 || f.abs() < 1e-15) {
        // MySQL switches to exponent notation from 15 digits on: `1e15`,
        // `1.2345678901234568e17`.
        format!("{f:e}")
    } else {
        format!("{f}")
    }
}

fn encode_text_row(p: &mut Vec<u8>, row: &[Cell]) {
    for c in row {
        match cell_text(c) {
            None => p.push(0xfb),
            Some(b) => put_lenenc_str(p, &b),
        }
    }
}

fn encode_binary_row(p: &mut Vec<u8>, row: &[Cell], types: &[ColumnType]) {
    p.push(0);
    let bitmap_len = (row.len() + 7 + 2) / 8;
    let start = p.len();
    p.resize(start + bitmap_len, 0);
    for (i, (c, ty)) in row.iter().zip(types).enumerate() {
        if matches!(c, Cell::Null) {
            let bit = i + 2;
            p[start + bit / 8] |= 1 << (bit % 8);
            continue;
        }
        encode_binary_value(p, *ty, c);
    }
}

/// Appends one non-NULL value of a column whose binary type is `ty` (chosen
/// by [`binary_type`], so the value fits it).
fn encode_binary_value(p: &mut Vec<u8>, ty: ColumnType, c: &Cell) {
    use ColumnType::*;
    match (ty, c) {
        (MYSQL_TYPE_TINY, Cell::Integer(v)) => p.push(*v as u8),
        (MYSQL_TYPE_SHORT | MYSQL_TYPE_YEAR, Cell::Integer(v)) => {
            p.extend_from_slice(&(*v as u16).to_le_bytes())
        }
        (MYSQL_TYPE_LONG | MYSQL_TYPE_INT24, Cell::Integer(v)) => {
            p.extend_from_slice(&(*v as u32).to_le_bytes())
        }
        (MYSQL_TYPE_LONGLONG, Cell::Integer(v)) => p.extend_from_slice(&v.to_le_bytes()),
        (MYSQL_TYPE_DOUBLE, Cell::Integer(v)) => p.extend_from_slice(&(*v as f64).to_le_bytes()),
        (MYSQL_TYPE_DOUBLE, Cell::Real(v)) => p.extend_from_slice(&v.to_le_bytes()),
        (MYSQL_TYPE_FLOAT, Cell::Integer(v)) => p.extend_from_slice(&(*v as f32).to_le_bytes()),
        (MYSQL_TYPE_FLOAT, Cell::Real(v)) => p.extend_from_slice(&(*v as f32).to_le_bytes()),
        (MYSQL_TYPE_DATE | MYSQL_TYPE_DATETIME | MYSQL_TYPE_TIMESTAMP, Cell::Text(t)) => {
            let Some((y, m, d, h, mi, s, us)) = parse_datetime(t) else {
                p.push(0);
                return;
            };
            let len = if ty == MYSQL_TYPE_DATE || (h, mi, s, us) == (0, 0, 0, 0) {
                if (y, m, d) == (0, 0, 0) { 0 } else { 4 }
            } else if us == 0 {
                7
            } else {
                11
            };
            p.push(len);
            if len >= 4 {
                p.extend_from_slice(&y.to_le_bytes());
                p.extend_from_slice(&[m, d]);
            }
            if len >= 7 {
                p.extend_from_slice(&[h, mi, s]);
            }
            if len == 11 {
                p.extend_from_slice(&us.to_le_bytes());
            }
        }
        (MYSQL_TYPE_TIME, Cell::Text(t)) => {
            let Some((neg, h, mi, s, us)) = parse_time(t) else {
                p.push(0);
                return;
            };
            if (h, mi, s, us) == (0, 0, 0, 0) {
                p.push(0);
                return;
            }
            p.push(if us == 0 { 8 } else { 12 });
            p.push(u8::from(neg));
            p.extend_from_slice(&(h / 24).to_le_bytes());
            p.extend_from_slice(&[(h % 24) as u8, mi, s]);
            if us != 0 {
                p.extend_from_slice(&us.to_le_bytes());
            }
        }
        _ => {
            if let Some(b) = cell_text(c) {
                put_lenenc_str(p, &b)
            }
        }
    }
}

/// Command bytes (`enum_server_command`).
#[allow(missing_docs)]
pub mod com {
    pub const SLEEP: u8 = 0x00;
    pub const QUIT: u8 = 0x01;
    pub const INIT_DB: u8 = 0x02;
    pub const QUERY: u8 = 0x03;
    pub const FIELD_LIST: u8 = 0x04;
    pub const REFRESH: u8 = 0x07;
    pub const SHUTDOWN: u8 = 0x08;
    pub const STATISTICS: u8 = 0x09;
    pub const PROCESS_INFO: u8 = 0x0a;
    pub const PROCESS_KILL: u8 = 0x0c;
    pub const DEBUG: u8 = 0x0d;
    pub const PING: u8 = 0x0e;
    pub const CHANGE_USER: u8 = 0x11;
    pub const STMT_PREPARE: u8 = 0x16;
    pub const STMT_EXECUTE: u8 = 0x17;
    pub const STMT_SEND_LONG_DATA: u8 = 0x18;
    pub const STMT_CLOSE: u8 = 0x19;
    pub const STMT_RESET: u8 = 0x1a;
    pub const SET_OPTION: u8 = 0x1b;
    pub const RESET_CONNECTION: u8 = 0x1f;
}

/// A decoded client command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// COM_QUIT
    Quit,
    /// COM_INIT_DB
    InitDb(String),
    /// COM_QUERY
    Query(String),
    /// COM_FIELD_LIST: table (the optional wildcard is ignored)
    FieldList(String),
    /// COM_REFRESH with its `REFRESH_*` flags (`mariadb-admin refresh`, `flush-*`)
    Refresh(u8),
    /// COM_SHUTDOWN
    Shutdown,
    /// COM_STATISTICS
    Statistics,
    /// COM_PROCESS_INFO (old `SHOW PROCESSLIST`)
    ProcessInfo,
    /// COM_PROCESS_KILL id
    ProcessKill(u32),
    /// COM_DEBUG
    Debug,
    /// COM_PING
    Ping,
    /// COM_CHANGE_USER (raw payload, decoded with the session's capabilities)
    ChangeUser(Vec<u8>),
    /// COM_STMT_PREPARE
    StmtPrepare(String),
    /// COM_STMT_EXECUTE (raw payload, decoded with the statement's parameter count)
    StmtExecute(Vec<u8>),
    /// COM_STMT_SEND_LONG_DATA stmt, param, data
    StmtSendLongData(u32, u16, Vec<u8>),
    /// COM_STMT_CLOSE
    StmtClose(u32),
    /// COM_STMT_RESET
    StmtReset(u32),
    /// COM_SET_OPTION
    SetOption(u16),
    /// COM_RESET_CONNECTION
    ResetConnection,
    /// Any other command byte.
    Unknown(u8),
}

/// Name of a command as shown in the processlist's `Command` column.
pub fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Quit => "Quit",
        Command::InitDb(_) => "Init DB",
        Command::Query(_) => "Query",
        Command::FieldList(_) => "Field List",
        Command::Refresh(_) => "Refresh",
        Command::Shutdown => "Shutdown",
        Command::Statistics => "Statistics",
        Command::ProcessInfo => "Processlist",
        Command::ProcessKill(_) => "Kill",
        Command::Debug => "Debug",
        Command::Ping => "Ping",
        Command::ChangeUser(_) => "Change user",
        Command::StmtPrepare(_) => "Prepare",
        Command::StmtExecute(_) => "Execute",
        Command::StmtSendLongData(..) => "Long Data",
        Command::StmtClose(_) => "Close stmt",
        Command::StmtReset(_) => "Reset stmt",
        Command::SetOption(_) => "Set option",
        Command::ResetConnection => "Reset connection",
        Command::Unknown(_) => "Error",
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn text(mut b: &[u8]) -> String {
    while let [rest @ .., 0] = b {
        b = rest;
    }
    String::from_utf8_lossy(b).into_owned()
}

/// Statement text from a command packet. Some clients (mariadb-slap) send the
/// C string's terminating NUL too; like mysqld, drop trailing NULs.
fn into_text(mut p: Vec<u8>) -> String {
    p.remove(0);
    while p.last() == Some(&0) {
        p.pop();
    }
    String::from_utf8(p).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl Command {
    /// Decodes a command packet, reusing its buffer for statement text.
    pub fn from_packet(p: Vec<u8>) -> Result<Command, String> {
        match p.first() {
            Some(&com::QUERY) => Ok(Command::Query(into_text(p))),
            Some(&com::STMT_PREPARE) => Ok(Command::StmtPrepare(into_text(p))),
            _ => Command::parse(&p),
        }
    }

    /// Decodes a command packet. `Err` means the packet is malformed.
    pub fn parse(p: &[u8]) -> Result<Command, String> {
        let (&first, rest) = p.split_first().ok_or("empty command packet")?;
        let short = || format!("command 0x{first:02x}: packet too short");
        Ok(match first {
            com::QUIT => Command::Quit,
            com::INIT_DB => Command::InitDb(text(rest)),
            com::QUERY => Command::Query(text(rest)),
            com::FIELD_LIST => {
                let mut pb = ParseBuf(rest);
                let table = pb.eat_null_str();
                Command::FieldList(text(table))
            }
            com::REFRESH => Command::Refresh(rest.first().copied().unwrap_or(0)),
            com::SHUTDOWN => Command::Shutdown,
            com::STATISTICS => Command::Statistics,
            com::PROCESS_INFO => Command::ProcessInfo,
            com::PROCESS_KILL => Command::ProcessKill(u32_at(rest, 0).ok_or_else(short)?),
            com::DEBUG => Command::Debug,
            com::PING => Command::Ping,
            com::CHANGE_USER => Command::ChangeUser(p.to_vec()),
            com::STMT_PREPARE => Command::StmtPrepare(text(rest)),
            com::STMT_EXECUTE => {
                if rest.len() < 9 {
                    return Err(short());
                }
                Command::StmtExecute(rest.to_vec())
            }
            com::STMT_SEND_LONG_DATA => {
                let id = u32_at(rest, 0).ok_or_else(short)?;
                let param = rest.get(4..6).ok_or_else(short)?;
                Command::StmtSendLongData(
                    id,
                    u16::from_le_bytes([param[0], param[1]]),
                    rest[6..].to_vec(),
                )
            }
            com::STMT_CLOSE => Command::StmtClose(u32_at(rest, 0).ok_or_else(short)?),
            com::STMT_RESET => Command::StmtReset(u32_at(rest, 0).ok_or_else(short)?),
            com::SET_OPTION => {
                let b = rest.get(0..2).ok_or_else(short)?;
                Command::SetOption(u16::from_le_bytes([b[0], b[1]]))
            }
            com::RESET_CONNECTION => Command::ResetConnection,
            other => Command::Unknown(other),
        })
    }
}

/// Decodes the parameters of a COM_STMT_EXECUTE payload (after the command
/// byte). `types` holds the types bound by an earlier execute and is updated
/// when the client sends new ones; `long_data` holds COM_STMT_SEND_LONG_DATA
/// values.
pub fn parse_execute_params(
    payload: &[u8],
    nparams: usize,
    types: &mut Vec<(ColumnType, ColumnFlags)>,
    long_data: &mut [Option<Vec<u8>>],
) -> Result<Vec<mysql_common::Value>, String> {
    use mysql_common::value::{BinValue, ValueDeserializer};
    let mut params = Vec::with_capacity(nparams);
    if nparams == 0 {
        return Ok(params);
    }
    let mut pb = ParseBuf(payload.get(9..).ok_or("execute packet too short")?);
    let bitmap_len = nparams.div_ceil(8);
    let bitmap = pb
        .checked_eat(bitmap_len)
        .ok_or("execute packet: truncated null bitmap")?
        .to_vec();
    let bound = pb
        .checked_eat_u8()
        .ok_or("execute packet: missing bound flag")?;
    if bound == 1 {
        types.clear();
        for _ in 0..nparams {
            let t = pb
                .checked_eat_u8()
                .ok_or("execute packet: truncated parameter types")?;
            let f = pb
                .checked_eat_u8()
                .ok_or("execute packet: truncated parameter types")?;
            let ty = ColumnType::try_from(t)
                .map_err(|_| format!("execute packet: unknown parameter type {t}"))?;
            if !binary_param_type_supported(ty) {
                return Err(format!(
                    "execute packet: unsupported parameter type {t} ({ty:?})"
                ));
            }
            let flags = if f & 0x80 != 0 {
                ColumnFlags::UNSIGNED_FLAG
            } else {
                ColumnFlags::empty()
            };
            types.push((ty, flags));
        }
    }
    if types.len() != nparams {
        return Err("execute packet: parameter types were never bound".into());
    }
    for (i, (ty, flags)) in types.iter().enumerate() {
        if let Some(Some(data)) = long_data.get_mut(i).map(Option::take) {
            params.push(mysql_common::Value::Bytes(data));
            continue;
        }
        if bitmap[i / 8] & (1 << (i % 8)) != 0 {
            params.push(mysql_common::Value::NULL);
            continue;
        }
        let v: ValueDeserializer<BinValue> = pb
            .parse((*ty, *flags))
            .map_err(|e| format!("execute packet: parameter {}: {e}", i + 1))?;
        params.push(v.0);
    }
    Ok(params)
}

/// Whether a client may bind a parameter of this type: the types the binary
/// protocol carries. Server-internal ones (`NEWDATE`, `TIMESTAMP2`, `DATETIME2`,
/// `TIME2`, `TYPED_ARRAY`) are refused, as `mysql_common` cannot decode them
/// (it panics).
fn binary_param_type_supported(ty: ColumnType) -> bool {
    use ColumnType::*;
    matches!(
        ty,
        MYSQL_TYPE_STRING
            | MYSQL_TYPE_VAR_STRING
            | MYSQL_TYPE_BLOB
            | MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB
            | MYSQL_TYPE_SET
            | MYSQL_TYPE_ENUM
            | MYSQL_TYPE_DECIMAL
            | MYSQL_TYPE_VARCHAR
            | MYSQL_TYPE_BIT
            | MYSQL_TYPE_NEWDECIMAL
            | MYSQL_TYPE_GEOMETRY
            | MYSQL_TYPE_VECTOR
            | MYSQL_TYPE_JSON
            | MYSQL_TYPE_TINY
            | MYSQL_TYPE_SHORT
            | MYSQL_TYPE_YEAR
            | MYSQL_TYPE_LONG
            | MYSQL_TYPE_INT24
            | MYSQL_TYPE_LONGLONG
            | MYSQL_TYPE_FLOAT
            | MYSQL_TYPE_DOUBLE
            | MYSQL_TYPE_TIMESTAMP
            | MYSQL_TYPE_DATE
            | MYSQL_TYPE_DATETIME
            | MYSQL_TYPE_TIME
            | MYSQL_TYPE_NULL
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenenc_boundaries() {
        for (v, len) in [
            (0u64, 1),
            (250, 1),
            (251, 3),
            (65535, 3),
            (65536, 4),
            (1 << 24, 9),
        ] {
            let mut b = Vec::new();
            put_lenenc_int(&mut b, v);
            assert_eq!(b.len(), len, "value {v}");
            assert_eq!(ParseBuf(&b).eat_lenenc_int(), v);
        }
    }

    #[test]
    fn malformed_commands_are_errors_not_panics() {
        assert!(Command::parse(&[]).is_err());
        assert!(Command::parse(&[com::PROCESS_KILL, 1]).is_err());
        assert!(Command::parse(&[com::STMT_EXECUTE, 1, 0]).is_err());
        assert_eq!(
            Command::parse(&[0x42]).expect("unknown is not malformed"),
            Command::Unknown(0x42)
        );
        assert_eq!(
            Command::parse(b"\x03select 1").expect("query"),
            Command::Query("select 1".into())
        );
    }

    #[test]
    fn from_packet_keeps_text_and_replaces_bad_utf8() {
        assert_eq!(
            Command::from_packet(b"\x03SELECT 'h\xc3\xa9'".to_vec()).expect("q"),
            Command::Query("SELECT 'hé'".into())
        );
        assert_eq!(
            Command::from_packet(vec![3, b'a', 0xff]).expect("q"),
            Command::Query("a\u{fffd}".into())
        );
        assert!(Command::from_packet(vec![]).is_err());
        // mariadb-slap sends the terminating NUL.
        assert_eq!(
            Command::from_packet(b"\x03SELECT 1\0".to_vec()).expect("q"),
            Command::Query("SELECT 1".into())
        );
        assert_eq!(
            Command::parse(b"\x02db\0").expect("init db"),
            Command::InitDb("db".into())
        );
    }

    #[test]
    fn execute_params_roundtrip() {
        let mut p = vec![0u8; 9];
        p.push(0b10); // second param NULL
        p.push(1);
        p.extend_from_slice(&[ColumnType::MYSQL_TYPE_LONGLONG as u8, 0]);
        p.extend_from_slice(&[ColumnType::MYSQL_TYPE_VAR_STRING as u8, 0]);
        p.extend_from_slice(&42i64.to_le_bytes());
        let mut types = Vec::new();
        let v = parse_execute_params(&p, 2, &mut types, &mut [None, None]).expect("params");
        assert_eq!(
            v,
            vec![mysql_common::Value::Int(42), mysql_common::Value::NULL]
        );
        // truncated value
        let cut = &p[..p.len() - 3];
        assert!(parse_execute_params(cut, 2, &mut types, &mut [None, None]).is_err());
    }

    /// Regression (found by `server/fuzz`, target `packet`): a parameter bound with a
    /// server-internal type such as MYSQL_TYPE_TIME2 hit `unimplemented!` inside
    /// `mysql_common` and panicked the session thread.
    #[test]
    fn execute_params_internal_type_time2_is_an_error() {
        for ty in [
            ColumnType::MYSQL_TYPE_NEWDATE,
            ColumnType::MYSQL_TYPE_TIMESTAMP2,
            ColumnType::MYSQL_TYPE_DATETIME2,
            ColumnType::MYSQL_TYPE_TIME2,
            ColumnType::MYSQL_TYPE_TYPED_ARRAY,
        ] {
            let mut p = vec![0u8; 9];
            p.push(0); // no NULLs
            p.push(1); // types bound
            p.extend_from_slice(&[ty as u8, 0]);
            p.extend_from_slice(&[0; 8]);
            let mut types = Vec::new();
            let e = parse_execute_params(&p, 1, &mut types, &mut [None])
                .expect_err("internal type must be refused");
            assert!(e.contains("parameter type"), "{ty:?}: {e}");
            assert!(types.is_empty(), "{ty:?} must not stay bound");
        }
    }
}
