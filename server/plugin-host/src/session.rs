//! Per-connection bindings and every call made on behalf of a session.

use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use minnow_plugin::Value;
use minnow_plugin::abi::*;

use crate::error::PluginError;
use crate::ffi::{ColumnDef, Kind, RawEvent, UdfInstance};
use crate::registry::{Entry, ExtPoint, PluginState, PluginType, Registry, Shared, Stats, Udf};
use crate::{
    AuthRequest, ConnectionEvent, ConnectionSubclass, GeneralEvent, GeneralSubclass, UdfArg,
};

/// The plugin bindings of one connection. Create it when the connection starts
/// ([`Registry::session`]); call [`Session::release`] after each statement, before
/// waiting for the next command; dropping it releases everything.
pub struct Session {
    shared: Arc<Shared>,
    id: u64,
    /// What this session holds, published for `SESSION_PLUGIN_BINDINGS`.
    slot: Arc<SessionSlot>,
    /// Number of bindings in `slot` (read without its lock).
    bound: usize,
    /// Empty vectors swapped with the slot's at release, so the bindings are
    /// dropped outside the slot's lock and no vector is allocated per statement.
    spare: Bound,
    /// The registry's audit list as last seen by this session and the generation it
    /// was taken at; re-read (under the lock) only when the generation moves or the
    /// list is gone. Weak, so an idle session never keeps an uninstalled plugin's
    /// library mapped.
    audit: Option<std::sync::Weak<[Arc<Entry>]>>,
    audit_gen: u64,
    /// The audit list held strongly from the first audit event of a statement until
    /// [`Session::release`], so the later events of the statement neither upgrade
    /// the weak reference nor look at the registry.
    held: Option<Arc<[Arc<Entry>]>>,
    /// Bit `2i` (general) / `2i + 1` (connection) set once entry `i` of `held` is
    /// bound by this session for that class: the later events of the statement skip
    /// [`Session::bind`]. Cleared with `held`.
    held_bound: u64,
}

/// Where an audit chain stopped: the plugin's index in the list and its return code.
#[derive(Debug, Clone, Copy)]
struct Stop {
    index: usize,
    rc: i32,
}

/// The error for `stop` (a panic, or a veto of event `event`).
#[cold]
fn audit_error(list: &[Arc<Entry>], stop: Stop, event: &'static str) -> PluginError {
    let plugin = list
        .get(stop.index)
        .map(|e| e.name.clone())
        .unwrap_or_default();
    if stop.rc == MINNOW_PLUGIN_PANICKED {
        PluginError::Panicked {
            plugin,
            during: "audit notify",
        }
    } else {
        PluginError::Vetoed {
            plugin,
            event,
            rc: stop.rc,
        }
    }
}

/// Up to this many audit plugins on the general class, [`Session::audit_general_seq`]
/// resolves each one's binding, stats and timing once for all the events of a
/// sequence; more take the general path, event by event.
const SEQ_TARGETS: usize = 4;

/// One event of [`Session::audit_general_seq`]: subclass, error code, rows.
pub type GeneralStep = (GeneralSubclass, i32, u64);

/// The bindings one session holds.
#[derive(Default)]
pub(crate) struct Bound {
    pub(crate) plugins: Vec<(Arc<Entry>, ExtPoint)>,
    pub(crate) udfs: Vec<Arc<Udf>>,
}

/// A session's published bindings: locked by the session itself when it binds or
/// releases (uncontended but for `SESSION_PLUGIN_BINDINGS` readers), never by other
/// sessions. Lock order: the registry's session list, then a slot.
pub(crate) struct SessionSlot {
    pub(crate) id: u64,
    bound: Mutex<Bound>,
}

impl SessionSlot {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Bound> {
        self.bound.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("bound", &self.bound)
            .finish()
    }
}

fn general_name(s: GeneralSubclass) -> &'static str {
    match s {
        GeneralSubclass::Log => "MINNOW_AUDIT_GENERAL_LOG",
        GeneralSubclass::Error => "MINNOW_AUDIT_GENERAL_ERROR",
        GeneralSubclass::Result => "MINNOW_AUDIT_GENERAL_RESULT",
        GeneralSubclass::Status => "MINNOW_AUDIT_GENERAL_STATUS",
        GeneralSubclass::Starting => "MINNOW_AUDIT_GENERAL_STARTING",
        GeneralSubclass::Completed => "MINNOW_AUDIT_GENERAL_COMPLETED",
    }
}

fn connection_name(s: ConnectionSubclass) -> &'static str {
    match s {
        ConnectionSubclass::PreAuthenticate => "MINNOW_AUDIT_CONNECTION_PRE_AUTHENTICATE",
        ConnectionSubclass::Connect => "MINNOW_AUDIT_CONNECTION_CONNECT",
        ConnectionSubclass::Disconnect => "MINNOW_AUDIT_CONNECTION_DISCONNECT",
        ConnectionSubclass::ChangeUser => "MINNOW_AUDIT_CONNECTION_CHANGE_USER",
    }
}

impl Registry {
    /// Prepares a call of UDF `name` outside any session (no session binding is
    /// recorded; calls and time still are). For callbacks that cannot reach the
    /// connection's [`Session`], such as SQLite function closures.
    pub fn prepare_function(&self, name: &str, args: &[UdfArg]) -> Result<UdfCall, PluginError> {
        let udf = self
            .shared
            .udf(name)
            .ok_or_else(|| PluginError::DoesNotExist {
                what: "FUNCTION",
                name: name.to_string(),
            })?;
        let t = Instant::now();
        let res = UdfInstance::prepare(udf.code.clone(), &udf.name, args);
        udf.stats.record(t.elapsed(), res.is_err());
        Ok(UdfCall { inst: res?, udf })
    }

    /// A new session for connection `connection_id`.
    pub fn session(&self, connection_id: u64) -> Session {
        let slot = Arc::new(SessionSlot {
            id: connection_id,
            bound: Mutex::new(Bound::default()),
        });
        self.shared
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(slot.clone());
        Session {
            shared: self.shared.clone(),
            id: connection_id,
            slot,
            bound: 0,
            spare: Bound::default(),
            audit: None,
            audit_gen: u64::MAX,
            held: None,
            held_bound: 0,
        }
    }
}

impl Session {
    /// The connection id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Number of (plugin, extension point) bindings this session holds.
    pub fn bound_count(&self) -> usize {
        self.bound
    }

    /// Binds `e` for `ext` if not yet bound. False if the plugin is not ACTIVE.
    fn bind(&mut self, e: &Arc<Entry>, ext: ExtPoint) -> bool {
        let mut b = self.slot.lock();
        if b.plugins
            .iter()
            .any(|(x, p)| Arc::ptr_eq(x, e) && *p == ext)
        {
            return true;
        }
        e.bindings.bump_seqcst(self.id);
        if e.state() != PluginState::Active {
            drop(b);
            // Outside the slot's lock: this may unload the plugin.
            self.shared.unbind(e, self.id);
            return false;
        }
        b.plugins.push((e.clone(), ext));
        self.bound += 1;
        true
    }

    /// Releases every binding (MySQL releases before reading the next command, so an
    /// UNINSTALL waits at most one statement). A DELETED plugin whose last binding
    /// goes is deinitialised and unloaded here.
    pub fn release(&mut self) {
        self.held = None;
        self.held_bound = 0;
        if self.bound == 0 {
            return;
        }
        self.bound = 0;
        {
            let mut b = self.slot.lock();
            std::mem::swap(&mut *b, &mut self.spare);
        }
        // Unpublished: now drop the bindings outside the slot's lock (an unload
        // takes the registry's locks). pop() keeps the capacity for the next swap.
        while let Some((e, _)) = self.spare.plugins.pop() {
            self.shared.unbind(&e, self.id);
        }
        self.spare.udfs.clear();
    }

    /// Calls a plugin callback with timing and accounting; handles panics.
    #[inline(always)]
    fn timed(&self, e: &Arc<Entry>, ext: ExtPoint, f: impl FnOnce() -> i32) -> i32 {
        let every = self.shared.timing.load(Relaxed);
        self.timed_with(e, e.stats(ext), every, ext, f)
    }

    /// [`Session::timed`] with the entry's stats for `ext` and the timing rate
    /// (`every`: 0 = off, n = one call in n) already looked up.
    #[inline(always)]
    fn timed_with(
        &self,
        e: &Arc<Entry>,
        stats: Option<&Stats>,
        every: u64,
        ext: ExtPoint,
        f: impl FnOnce() -> i32,
    ) -> i32 {
        let rc = match stats {
            Some(s) => {
                let n = s.calls.bump(self.id);
                // `every` is usually a power of two (32): a mask, not a division.
                let sampled = every != 0
                    && if every.is_power_of_two() {
                        n & (every - 1) == 0
                    } else {
                        n % every == 0
                    };
                let rc = if sampled {
                    let t = Instant::now();
                    let rc = f();
                    s.add_time(t.elapsed(), every);
                    rc
                } else {
                    f()
                };
                if rc != 0 {
                    s.errors.fetch_add(1, Relaxed);
                }
                rc
            }
            None => f(),
        };
        if rc == MINNOW_PLUGIN_PANICKED {
            self.shared.disable(e, ext.as_str());
        }
        rc
    }

    /// Makes `held` the current audit list (cold path: first audit event of a
    /// statement, or the list changed since the last event).
    #[inline(never)]
    fn refresh_audit(&mut self, generation: u64) {
        let cached = if generation == self.audit_gen {
            self.audit.as_ref().and_then(|w| w.upgrade())
        } else {
            None
        };
        let list = match cached {
            Some(list) => list,
            None => {
                let list = self.shared.audit.read().unwrap_or_else(|p| p.into_inner());
                // Read under the lock: the generation moves with the list under the write lock.
                self.audit_gen = self.shared.audit_gen.load(SeqCst);
                self.audit = Some(Arc::downgrade(&list));
                list.clone()
            }
        };
        if !self.held.as_ref().is_some_and(|h| Arc::ptr_eq(h, &list)) {
            // The bits index the list they were set for.
            self.held_bound = 0;
        }
        self.held = Some(list);
    }

    fn dispatch(
        &mut self,
        mask: u32,
        ext: ExtPoint,
        ev: RawEvent<'_>,
        can_veto: bool,
        name: impl Fn() -> &'static str,
    ) -> Result<(), PluginError> {
        // No installed audit plugin takes this class: nothing to bind or call.
        if self.shared.audit_classes.load(SeqCst) & mask == 0 {
            return Ok(());
        }
        let generation = self.shared.audit_gen.load(SeqCst);
        if generation != self.audit_gen || self.held.is_none() {
            self.refresh_audit(generation);
        }
        let Some(list) = self.held.take() else {
            return Ok(());
        };
        let stop = self.call_audit(&list, mask, ext, ev, can_veto);
        let r = match stop {
            Some(stop) => Err(audit_error(&list, stop, name())),
            None => Ok(()),
        };
        // A nested refresh cannot happen (no callback re-enters this session), so
        // `held` is still empty: put the list back.
        self.held = Some(list);
        r
    }

    /// Calls every plugin of `list` taking `mask` with `ev`, binding it first if
    /// needed. Returns the first stop as a small value (the error itself is built
    /// by [`audit_error`], off the hot path): a veto or panic when `can_veto`, else
    /// the first panic after the whole chain ran.
    #[inline(always)]
    fn call_audit(
        &mut self,
        list: &[Arc<Entry>],
        mask: u32,
        ext: ExtPoint,
        ev: RawEvent<'_>,
        can_veto: bool,
    ) -> Option<Stop> {
        let class_bit = u64::from(ext == ExtPoint::Connection);
        let mut panicked = None;
        for (i, e) in list.iter().enumerate() {
            if e.audit_mask() & mask == 0 {
                continue;
            }
            let bit = if i < 32 {
                1u64 << (2 * i as u64 + class_bit)
            } else {
                0
            };
            if self.held_bound & bit == 0 {
                if !self.bind(e, ext) {
                    continue;
                }
                self.held_bound |= bit;
            }
            if e.state() != PluginState::Active {
                continue;
            }
            let rc = self.timed(e, ext, || e.code.notify(e.ctx(), ev));
            if rc == 0 {
                continue;
            }
            if can_veto {
                return Some(Stop { index: i, rc });
            }
            if rc == MINNOW_PLUGIN_PANICKED && panicked.is_none() {
                panicked = Some(Stop { index: i, rc });
            }
        }
        panicked
    }

    /// Sends several general-class events of one statement in order, as that many
    /// [`Session::audit_general`] calls would (each event to every plugin in install
    /// order before the next event), but checks the class mask, the audit list and
    /// the bindings and builds the C event once. `ev` gives the strings and the
    /// connection; each step its subclass, error code and rows. Only a step that may
    /// veto (`Starting`) can fail the sequence, and it stops it; failures of
    /// observe-only steps are ignored (a panicking plugin is still disabled and
    /// logged).
    pub fn audit_general_seq(
        &mut self,
        ev: &GeneralEvent<'_>,
        steps: &[GeneralStep],
    ) -> Result<(), PluginError> {
        const MASK: u32 = MINNOW_AUDIT_GENERAL_CLASSMASK;
        if self.shared.audit_classes.load(SeqCst) & MASK == 0 {
            return Ok(());
        }
        let generation = self.shared.audit_gen.load(SeqCst);
        if generation != self.audit_gen || self.held.is_none() {
            self.refresh_audit(generation);
        }
        let Some(list) = self.held.take() else {
            return Ok(());
        };
        let mut c = crate::ffi::general_c(ev);
        // The plugins taking the class, bound (in install order, as the first event
        // would bind them: every step reaches every one of them unless a veto stops
        // the sequence, and the first step cannot veto after the statement) with
        // their stats and the timing rate, looked up once for all the steps.
        let mut targets: [(usize, Option<&Stats>); SEQ_TARGETS] = [(0, None); SEQ_TARGETS];
        let mut n = 0;
        for (i, e) in list.iter().enumerate() {
            if e.audit_mask() & MASK == 0 {
                continue;
            }
            if n == SEQ_TARGETS || i >= 32 {
                // Many audit plugins: the general path, step by step.
                let r = self.general_steps(&list, &mut c, steps);
                self.held = Some(list);
                return r;
            }
            let bit = 1u64 << (2 * i as u64);
            if self.held_bound & bit == 0 {
                if !self.bind(e, ExtPoint::General) {
                    continue;
                }
                self.held_bound |= bit;
            }
            targets[n] = (i, e.stats(ExtPoint::General));
            n += 1;
        }
        let every = self.shared.timing.load(Relaxed);
        let mut r = Ok(());
        'steps: for &(subclass, error_code, rows) in steps {
            c.event_subclass = subclass as u32;
            c.error_code = error_code;
            c.rows = rows;
            let can_veto = subclass == GeneralSubclass::Starting;
            for &(i, stats) in &targets[..n] {
                let e = &list[i];
                if e.state() != PluginState::Active {
                    continue;
                }
                let rc = self.timed_with(e, stats, every, ExtPoint::General, || {
                    e.code.notify(e.ctx(), RawEvent::General(&c))
                });
                if rc != 0 && can_veto {
                    r = Err(audit_error(
                        &list,
                        Stop { index: i, rc },
                        general_name(subclass),
                    ));
                    break 'steps;
                }
            }
        }
        self.held = Some(list);
        r
    }

    /// The steps of [`Session::audit_general_seq`] one by one through
    /// [`Session::call_audit`] (lists with more than [`SEQ_TARGETS`] audit plugins).
    #[cold]
    fn general_steps(
        &mut self,
        list: &[Arc<Entry>],
        c: &mut crate::abi::AuditGeneralEvent,
        steps: &[GeneralStep],
    ) -> Result<(), PluginError> {
        const MASK: u32 = MINNOW_AUDIT_GENERAL_CLASSMASK;
        for &(subclass, error_code, rows) in steps {
            c.event_subclass = subclass as u32;
            c.error_code = error_code;
            c.rows = rows;
            let can_veto = subclass == GeneralSubclass::Starting;
            let stop = self.call_audit(
                list,
                MASK,
                ExtPoint::General,
                RawEvent::General(c),
                can_veto,
            );
            if let Some(stop) = stop.filter(|_| can_veto) {
                return Err(audit_error(list, stop, general_name(subclass)));
            }
        }
        Ok(())
    }

    /// True if some installed audit plugin subscribes to general-class events (one
    /// atomic load, no lock): callers may skip building events nobody receives.
    pub fn wants_general(&self) -> bool {
        self.shared.audit_classes.load(SeqCst) & MINNOW_AUDIT_GENERAL_CLASSMASK != 0
    }

    /// Sends a general-class event to the audit plugins in install order. At
    /// `Starting` a non-zero return vetoes the statement (error 3164) and stops the
    /// chain; other subclasses only observe. A panicking plugin is disabled and
    /// reported as error 1105.
    pub fn audit_general(&mut self, ev: &GeneralEvent<'_>) -> Result<(), PluginError> {
        if !self.wants_general() {
            return Ok(());
        }
        let can_veto = ev.subclass == GeneralSubclass::Starting;
        let c = crate::ffi::general_c(ev);
        self.dispatch(
            MINNOW_AUDIT_GENERAL_CLASSMASK,
            ExtPoint::General,
            RawEvent::General(&c),
            can_veto,
            || general_name(ev.subclass),
        )
    }

    /// Sends a connection-class event; `PreAuthenticate` may veto (refuse the connection).
    pub fn audit_connection(&mut self, ev: &ConnectionEvent<'_>) -> Result<(), PluginError> {
        let can_veto = ev.subclass == ConnectionSubclass::PreAuthenticate;
        let c = crate::ffi::connection_c(ev);
        self.dispatch(
            MINNOW_AUDIT_CONNECTION_CLASSMASK,
            ExtPoint::Connection,
            RawEvent::Connection(&c),
            can_veto,
            || connection_name(ev.subclass),
        )
    }

    /// Sends one packet to the protocol trace plugins. During
    /// [`crate::abi::stage::AUTHENTICATE`] (and for auth events) the payload is masked
    /// (`*` per byte) before any plugin sees it. `Err` asks to drop the connection.
    pub fn protocol_trace(
        &mut self,
        stage: u32,
        event: u32,
        packet: &[u8],
    ) -> Result<(), PluginError> {
        let list = self
            .shared
            .trace
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if list.is_empty() {
            return Ok(());
        }
        let masked;
        let packet = if stage == stage::AUTHENTICATE
            || matches!(
                event,
                event::SEND_AUTH_RESPONSE | event::SEND_AUTH_DATA | event::AUTH_PLUGIN
            ) {
            masked = vec![b'*'; packet.len()];
            &masked[..]
        } else {
            packet
        };
        for e in list.iter() {
            if !self.bind(e, ExtPoint::ProtocolTrace) || e.state() != PluginState::Active {
                continue;
            }
            let id = self.id;
            let rc = self.timed(e, ExtPoint::ProtocolTrace, || {
                e.code.trace(e.ctx(), id, stage, event, packet)
            });
            if rc == MINNOW_PLUGIN_PANICKED {
                return Err(PluginError::Panicked {
                    plugin: e.name.clone(),
                    during: "trace_event",
                });
            }
            if rc != 0 {
                return Err(PluginError::CallFailed {
                    plugin: e.name.clone(),
                    during: "trace_event",
                    detail: format!("returned {rc}; connection dropped"),
                });
            }
        }
        Ok(())
    }

    fn active_entry(&self, name: &str, t: PluginType) -> Result<Arc<Entry>, PluginError> {
        let e = self
            .shared
            .entry(name)
            .filter(|e| {
                e.plugin_type == t
                    && !matches!(e.state(), PluginState::Deleted | PluginState::Deleting)
            })
            .ok_or_else(|| PluginError::DoesNotExist {
                what: "PLUGIN",
                name: name.to_string(),
            })?;
        if e.state() != PluginState::Active {
            return Err(PluginError::NotLoaded {
                name: e.name.clone(),
            });
        }
        Ok(e)
    }

    /// The ACTIVE plugin `name` of type `t`, bound to this session for `ext`.
    fn bound_entry(
        &mut self,
        name: &str,
        t: PluginType,
        ext: ExtPoint,
    ) -> Result<Arc<Entry>, PluginError> {
        let e = self.active_entry(name, t)?;
        if !self.bind(&e, ext) {
            return Err(PluginError::NotLoaded {
                name: e.name.clone(),
            });
        }
        Ok(e)
    }

    /// Fills the information_schema table `name` (the plugin's name, any case).
    pub fn fill_table(
        &mut self,
        name: &str,
    ) -> Result<(Vec<ColumnDef>, Vec<Vec<Value>>), PluginError> {
        let e = self.bound_entry(name, PluginType::InformationSchema, ExtPoint::Table)?;
        let Kind::InfoSchema { columns, .. } = &e.code.decl.kind else {
            return Err(PluginError::NotLoaded {
                name: e.name.clone(),
            });
        };
        let t = Instant::now();
        let res = e.code.fill(e.ctx());
        if let Some(s) = e.stats(ExtPoint::Table) {
            s.record(t.elapsed(), res.is_err());
        }
        match res {
            Ok(rows) => Ok((columns.clone(), rows)),
            Err(MINNOW_PLUGIN_PANICKED) => {
                self.shared.disable(&e, "fill");
                Err(PluginError::Panicked {
                    plugin: e.name.clone(),
                    during: "fill",
                })
            }
            Err(rc) => Err(PluginError::CallFailed {
                plugin: e.name.clone(),
                during: "fill",
                detail: format!("returned {rc}"),
            }),
        }
    }

    /// Authenticates with plugin `name`: `Ok(true)` if accepted.
    pub fn authenticate(&mut self, name: &str, req: &AuthRequest<'_>) -> Result<bool, PluginError> {
        let e = self.bound_entry(name, PluginType::Authentication, ExtPoint::Authentication)?;
        let t = Instant::now();
        let rc = e.code.authenticate(e.ctx(), req);
        if let Some(s) = e.stats(ExtPoint::Authentication) {
            s.record(t.elapsed(), rc != 0);
        }
        if rc == MINNOW_PLUGIN_PANICKED {
            self.shared.disable(&e, "authenticate");
            return Err(PluginError::Panicked {
                plugin: e.name.clone(),
                during: "authenticate",
            });
        }
        Ok(rc == 0)
    }

    /// The stored authentication string plugin `name` makes of `password`
    /// (`CREATE USER … IDENTIFIED WITH name BY 'password'`).
    pub fn generate_auth_string(
        &mut self,
        name: &str,
        password: &[u8],
    ) -> Result<Vec<u8>, PluginError> {
        let e = self.bound_entry(name, PluginType::Authentication, ExtPoint::Authentication)?;
        match e.code.generate_auth_string(e.ctx(), password) {
            Ok(v) => Ok(v),
            Err(MINNOW_PLUGIN_PANICKED) => {
                self.shared.disable(&e, "generate_auth_string");
                Err(PluginError::Panicked {
                    plugin: e.name.clone(),
                    during: "generate_auth_string",
                })
            }
            Err(rc) => Err(PluginError::CallFailed {
                plugin: e.name.clone(),
                during: "generate_auth_string",
                detail: format!("returned {rc}"),
            }),
        }
    }

    /// Runs every ACTIVE password validation plugin (`CREATE USER`, `SET PASSWORD`,
    /// `ALTER USER`); the first refusal is error 1819.
    pub fn validate_password(&mut self, password: &[u8]) -> Result<(), PluginError> {
        for e in self.shared.active_of(PluginType::PasswordValidation) {
            if !self.bind(&e, ExtPoint::PasswordValidation) {
                continue;
            }
            let rc = self.timed(&e, ExtPoint::PasswordValidation, || {
                e.code.validate_password(e.ctx(), password)
            });
            if rc == MINNOW_PLUGIN_PANICKED {
                return Err(PluginError::Panicked {
                    plugin: e.name.clone(),
                    during: "validate_password",
                });
            }
            if rc != 0 {
                return Err(PluginError::PasswordRefused {
                    plugin: e.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// `VALIDATE_PASSWORD_STRENGTH()`: the minimum strength reported by the ACTIVE
    /// password validation plugins (`None` if there is none).
    pub fn password_strength(&mut self, password: &[u8]) -> Option<u32> {
        let mut out: Option<u32> = None;
        for e in self.shared.active_of(PluginType::PasswordValidation) {
            if !self.bind(&e, ExtPoint::PasswordValidation) {
                continue;
            }
            let s = e.code.password_strength(e.ctx(), password).min(100);
            out = Some(out.map_or(s, |o| o.min(s)));
        }
        out
    }

    /// Prepares a call of UDF `name` (runs `name_init`; `name_deinit` runs when the
    /// returned [`UdfCall`] is dropped). Binds the function to this session.
    pub fn prepare_function(
        &mut self,
        name: &str,
        args: &[UdfArg],
    ) -> Result<UdfCall, PluginError> {
        let udf = self
            .shared
            .udf(name)
            .ok_or_else(|| PluginError::DoesNotExist {
                what: "FUNCTION",
                name: name.to_string(),
            })?;
        {
            let mut b = self.slot.lock();
            if !b.udfs.iter().any(|u| Arc::ptr_eq(u, &udf)) {
                b.udfs.push(udf.clone());
                self.bound += 1;
            }
        }
        let t = Instant::now();
        let res = UdfInstance::prepare(udf.code.clone(), &udf.name, args);
        udf.stats.record(t.elapsed(), res.is_err());
        Ok(UdfCall { inst: res?, udf })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.release();
        let mut list = self
            .shared
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(i) = list.iter().position(|s| Arc::ptr_eq(s, &self.slot)) {
            list.swap_remove(i);
        }
    }
}

/// A prepared UDF call site (scalar: [`UdfCall::call`] per row; aggregate:
/// [`UdfCall::clear`], [`UdfCall::add`] per row, [`UdfCall::result`] per group).
pub struct UdfCall {
    inst: UdfInstance,
    udf: Arc<Udf>,
}

impl std::fmt::Debug for UdfCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdfCall")
            .field("function", &self.udf.name)
            .finish()
    }
}

impl UdfCall {
    /// Whether the function is an aggregate.
    pub fn is_aggregate(&self) -> bool {
        self.udf.aggregate
    }

    /// Scalar call with one row's arguments.
    pub fn call(&mut self, args: &[Value]) -> Result<Value, PluginError> {
        if self.udf.aggregate {
            return Err(PluginError::Usage {
                message: format!("'{}' is an aggregate function", self.udf.name),
            });
        }
        let t = Instant::now();
        let r = self.inst.call(args);
        self.udf.stats.record(t.elapsed(), r.is_err());
        r
    }

    /// Aggregate: start a new group.
    pub fn clear(&mut self) -> Result<(), PluginError> {
        self.inst.clear()
    }

    /// Aggregate: add one row.
    pub fn add(&mut self, args: &[Value]) -> Result<(), PluginError> {
        let t = Instant::now();
        let r = self.inst.add(args);
        self.udf.stats.record(t.elapsed(), r.is_err());
        r
    }

    /// Aggregate: the group's result.
    pub fn result(&mut self) -> Result<Value, PluginError> {
        if !self.udf.aggregate {
            return Err(PluginError::Usage {
                message: format!("'{}' is not an aggregate function", self.udf.name),
            });
        }
        Ok(self.inst.result())
    }
}
