//! `is_example`: an information_schema table `IS_EXAMPLE` with `is_example_rows`
//! rows (default 3): `ID`, `NAME`, `SQUARE` (real) and `CONNECTION_ID` (the session
//! reading the table, through the host's session service).

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicI64, Ordering};

use minnow_plugin::abi::{
    MINNOW_IS_TYPE_INT, MINNOW_IS_TYPE_REAL, MINNOW_IS_TYPE_STRING, MINNOW_VALUE_INT,
};
use minnow_plugin::{
    Host, InfoSchemaPlugin, Plugin, RowSink, Value, is_column, status_var, sysvar_int,
};

/// The plugin.
pub struct IsExample {
    host: Host,
    rows: AtomicI64,
    fills: AtomicI64,
}

impl Plugin for IsExample {
    const NAME: &'static std::ffi::CStr = c"is_example";
    const DESCRIPTION: &'static std::ffi::CStr = c"An example information_schema table";
    const STATUS_VARS: &'static [minnow_plugin::abi::StatusVarDecl] =
        &[status_var(c"fills", MINNOW_VALUE_INT)];
    const SYSTEM_VARS: &'static [minnow_plugin::abi::SysVarDecl] = &[sysvar_int(
        c"rows",
        c"Number of rows of IS_EXAMPLE",
        3,
        0,
        1000,
    )];

    fn init(host: Host) -> Result<Self, String> {
        let rows = host.sysvar("rows").and_then(|v| v.as_int()).unwrap_or(3);
        Ok(IsExample {
            host,
            rows: AtomicI64::new(rows),
            fills: AtomicI64::new(0),
        })
    }

    fn status(&self, _index: usize) -> Value {
        Value::Int(self.fills.load(Ordering::Relaxed))
    }

    fn update_sysvar(&self, _index: usize, value: &Value) {
        if let Some(n) = value.as_int() {
            self.rows.store(n, Ordering::Relaxed);
        }
    }
}

impl InfoSchemaPlugin for IsExample {
    const COLUMNS: &'static [minnow_plugin::abi::IsColumn] = &[
        is_column(c"ID", MINNOW_IS_TYPE_INT, 21),
        is_column(c"NAME", MINNOW_IS_TYPE_STRING, 64),
        is_column(c"SQUARE", MINNOW_IS_TYPE_REAL, 22),
        is_column(c"CONNECTION_ID", MINNOW_IS_TYPE_INT, 21),
    ];

    fn fill(&self, rows: &mut RowSink<'_>) -> Result<(), String> {
        let frame = self.host.dbug_frame("is_example_fill", file!(), line!());
        self.fills.fetch_add(1, Ordering::Relaxed);
        frame.print(
            "info",
            &format!("{} rows", self.rows.load(Ordering::Relaxed)),
        );
        let conn = self
            .host
            .connection_id()
            .map_or(Value::Null, |c| Value::Int(c as i64));
        for i in 1..=self.rows.load(Ordering::Relaxed) {
            rows.row(&[
                Value::Int(i),
                Value::Str(format!("row {i}")),
                Value::Real((i * i) as f64),
                conn.clone(),
            ])?;
        }
        Ok(())
    }
}

minnow_plugin::declare_plugins!(information_schema IsExample);
