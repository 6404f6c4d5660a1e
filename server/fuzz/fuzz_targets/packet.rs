//! Fuzz target: decoding a client packet must never panic.
//!
//! The first byte selects the decoder, the rest is the packet payload:
//! * even: a command packet through `Command::from_packet` (and `Command::parse`,
//!   which must agree); a COM_STMT_EXECUTE payload is then decoded with
//!   `parse_execute_params` for a parameter count taken from the selector, once with
//!   no bound types and once more with the types the first call bound (as a second
//!   execute of the same statement does), with long data for parameter 0.
//! * 1 modulo 4: a handshake response, decoded as the server does (`mysql_common`'s
//!   `HandshakeResponse` through `ParseBuf`), and its fields read.
//! * 3 modulo 4: packet framing. The next byte sets `max_packet` (times 16), the
//!   rest is what a client wrote on the wire before closing: `PacketIo::read_packet`
//!   over a real Unix socket reads command after command until it reports an
//!   error, and every packet it returns is decoded as a command.
//!
//! COM_CHANGE_USER payloads, which need a session, are fuzzed by the `sql` target.
//!
//! Run with `cargo +nightly fuzz run packet` from `server/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Write;
use std::os::unix::net::UnixStream;

use minnow_server::protocol::{Command, PacketIo, Stream, parse_execute_params};
use mysql_common::io::ParseBuf;
use mysql_common::packets::HandshakeResponse;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, pkt)) = data.split_first() else {
        return;
    };
    if sel & 3 == 3 {
        framing(pkt);
        return;
    }
    if sel & 1 == 1 {
        if let Ok(resp) = ParseBuf(pkt).parse::<HandshakeResponse<'_>>(()) {
            let _ = resp.capabilities();
            let _ = resp.user();
            let _ = resp.db_name();
            let _ = resp.scramble_buf();
            let _ = resp.auth_plugin();
            let _ = resp.connect_attributes();
        }
        return;
    }
    let parsed = Command::parse(pkt);
    let from_packet = Command::from_packet(pkt.to_vec());
    // `from_packet` decodes query text without copying; apart from that they agree.
    match (&parsed, &from_packet) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        _ => panic!("parse and from_packet disagree: {parsed:?} vs {from_packet:?}"),
    }
    if let Ok(Command::StmtExecute(payload)) = parsed {
        let nparams = usize::from(sel >> 1) % 20;
        let mut types = Vec::new();
        let mut long = vec![None; nparams];
        if let Some(slot) = long.first_mut() {
            *slot = Some(b"long".to_vec());
        }
        let first = parse_execute_params(&payload, nparams, &mut types, &mut long);
        if let Ok(values) = &first {
            assert_eq!(values.len(), nparams);
        }
        let _ = parse_execute_params(&payload, nparams, &mut types, &mut long);
    }
});

fn framing(data: &[u8]) {
    let Some((&max, wire)) = data.split_first() else {
        return;
    };
    let (mut client, server) = UnixStream::pair().expect("socketpair");
    // Inputs are small (-max_len), far below the socket buffer: no writer thread.
    client.write_all(wire).expect("write the wire bytes");
    drop(client);
    let mut io = PacketIo::new(Stream::Unix(server));
    io.max_packet = usize::from(max) * 16;
    let mut payload_bytes = 0;
    loop {
        io.begin_command();
        match io.read_packet() {
            Ok(p) => {
                assert!(p.len() <= io.max_packet, "{} > max_packet", p.len());
                payload_bytes += p.len();
                assert!(
                    payload_bytes <= wire.len(),
                    "more payload than bytes on the wire"
                );
                let _ = Command::from_packet(p);
            }
            Err(_) => break,
        }
    }
    assert!(io.bytes_received <= wire.len() as u64);
}
