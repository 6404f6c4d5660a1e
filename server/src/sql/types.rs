//! MySQL result-column types: from SQLite's declared column types (the type
//! text of `CREATE TABLE`, which SQLite keeps) plus the table's key
//! information, and from the kind of expression for computed columns
//! (date/time functions, aggregates, DECIMAL arithmetic), with MySQL's
//! lengths, scales and flags. Values are then formatted as MySQL prints them
//! (`DECIMAL(10,2)` 1.5 is `1.50`).

use mysql_common::constants::{ColumnFlags, ColumnType};
use rusqlite::Connection;
use sqlparser::ast::{
    BinaryOperator, CastKind, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    Query, SelectItem, SetExpr, Statement, TableFactor, UnaryOperator, Value,
};

use crate::protocol::{Cell, ColAttrs, ColDef};

/// `binary` collation id.
const BINARY: u16 = 63;
/// `utf8mb4_general_ci` collation id.
const UTF8MB4: u16 = 45;
/// MySQL's `div_precision_increment` default.
const DIV_INCREMENT: u8 = 4;
/// Largest DECIMAL precision.
const MAX_PRECISION: u32 = 65;

/// A MySQL column type with its attributes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MyType {
    /// Wire type.
    pub ty: ColumnType,
    /// Attributes sent in the column definition.
    pub attrs: ColAttrs,
}

impl MyType {
    fn new(ty: ColumnType, len: u32, decimals: u8, flags: ColumnFlags, charset: u16) -> MyType {
        MyType {
            ty,
            attrs: ColAttrs {
                len,
                decimals,
                flags,
                charset,
            },
        }
    }

    fn num(ty: ColumnType, len: u32, decimals: u8) -> MyType {
        MyType::new(ty, len, decimals, ColumnFlags::NUM_FLAG, BINARY)
    }

    fn temporal(ty: ColumnType, len: u32, decimals: u8) -> MyType {
        MyType::new(ty, len, decimals, ColumnFlags::BINARY_FLAG, BINARY)
    }

    fn text(ty: ColumnType, chars: u32) -> MyType {
        MyType::new(
            ty,
            chars.saturating_mul(4),
            0,
            ColumnFlags::empty(),
            UTF8MB4,
        )
    }

    /// `DECIMAL(precision, scale)` (length counts sign and point).
    fn decimal(precision: u32, scale: u8, unsigned: bool) -> MyType {
        let precision = precision.clamp(1, MAX_PRECISION);
        let len = precision + u32::from(scale > 0) + u32::from(!unsigned);
        let mut t = MyType::num(ColumnType::MYSQL_TYPE_NEWDECIMAL, len, scale);
        if unsigned {
            t.attrs.flags |= ColumnFlags::UNSIGNED_FLAG;
        }
        t
    }

    fn double() -> MyType {
        MyType::num(ColumnType::MYSQL_TYPE_DOUBLE, 22, 31)
    }

    fn longlong(len: u32) -> MyType {
        MyType::num(ColumnType::MYSQL_TYPE_LONGLONG, len, 0)
    }

    fn is_integer(&self) -> bool {
        use ColumnType::*;
        matches!(
            self.ty,
            MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_INT24 | MYSQL_TYPE_LONG
        ) || self.ty == MYSQL_TYPE_LONGLONG
            || self.ty == MYSQL_TYPE_YEAR
    }

    fn is_float(&self) -> bool {
        matches!(
            self.ty,
            ColumnType::MYSQL_TYPE_DOUBLE | ColumnType::MYSQL_TYPE_FLOAT
        )
    }

    fn is_decimal(&self) -> bool {
        self.ty == ColumnType::MYSQL_TYPE_NEWDECIMAL
    }

    /// Digits before the point (DECIMAL precision minus scale, integer length).
    fn int_digits(&self) -> u32 {
        let a = &self.attrs;
        if self.is_decimal() {
            let signed = !a.flags.contains(ColumnFlags::UNSIGNED_FLAG);
            a.len
                .saturating_sub(u32::from(a.decimals > 0) + u32::from(signed))
                .saturating_sub(u32::from(a.decimals))
        } else {
            a.len
        }
    }

    /// The column definition this type gives a result column.
    pub fn col_def(&self, name: String) -> ColDef {
        let mut c = ColDef::new(name, self.ty);
        c.attrs = Some(self.attrs);
        c
    }
}

/// Parenthesised numbers after a type name: `DECIMAL(10,2)` → [10, 2].
fn type_args(d: &str) -> Vec<u32> {
    let Some(open) = d.find('(') else {
        return vec![];
    };
    let close = d[open..].find(')').map_or(d.len(), |c| open + c);
    d[open + 1..close]
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// The MySQL type of an SQLite declared type (`int(11) unsigned`,
/// `DECIMAL(10,2)`, `datetime(3)`, `varbinary(8)`, …).
pub fn from_decl(decl: &str) -> MyType {
    use ColumnType::*;
    let d = decl.trim().to_ascii_uppercase();
    let base: String = d
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let args = type_args(&d);
    let unsigned = d.contains("UNSIGNED") || d.contains("ZEROFILL");
    let arg0 = args.first().copied();
    let int = |ty, signed_len: u32| {
        let mut t = MyType::num(ty, signed_len - u32::from(unsigned), 0);
        if unsigned {
            t.attrs.flags |= ColumnFlags::UNSIGNED_FLAG;
        }
        if d.contains("ZEROFILL") {
            t.attrs.flags |= ColumnFlags::ZEROFILL_FLAG;
        }
        t
    };
    let with_fsp = |ty, len: u32| {
        let f = arg0.map_or(0, |f| f.min(6)) as u8;
        MyType::temporal(ty, len + if f > 0 { u32::from(f) + 1 } else { 0 }, f)
    };
    let blob = |len: u32| {
        MyType::new(
            MYSQL_TYPE_BLOB,
            len,
            0,
            ColumnFlags::BLOB_FLAG | ColumnFlags::BINARY_FLAG,
            BINARY,
        )
    };
    let text_blob = |chars: u32| {
        let mut t = MyType::text(MYSQL_TYPE_BLOB, chars);
        t.attrs.flags |= ColumnFlags::BLOB_FLAG;
        t
    };
    match base.as_str() {
        "BOOL" | "BOOLEAN" => MyType::num(MYSQL_TYPE_TINY, 1, 0),
        "TINYINT" => int(MYSQL_TYPE_TINY, 4),
        "SMALLINT" => int(MYSQL_TYPE_SHORT, 6),
        "MEDIUMINT" => int(MYSQL_TYPE_INT24, 9),
        "INT" | "INTEGER" => int(MYSQL_TYPE_LONG, 11),
        "BIGINT" => {
            let mut t = int(MYSQL_TYPE_LONGLONG, 20);
            t.attrs.len = 20;
            t
        }
        "DECIMAL" | "DEC" | "NUMERIC" | "FIXED" => MyType::decimal(
            arg0.unwrap_or(10),
            args.get(1).copied().unwrap_or(0).min(30) as u8,
            unsigned,
        ),
        "FLOAT" => {
            let mut t = MyType::num(MYSQL_TYPE_FLOAT, 12, 31);
            if let [m, s] = args[..] {
                t.attrs.len = m;
                t.attrs.decimals = s.min(30) as u8;
            }
            t
        }
        "DOUBLE" | "REAL" => {
            let mut t = MyType::double();
            if let [m, s] = args[..] {
                t.attrs.len = m;
                t.attrs.decimals = s.min(30) as u8;
            }
            t
        }
        "DATE" => MyType::temporal(MYSQL_TYPE_DATE, 10, 0),
        "DATETIME" => with_fsp(MYSQL_TYPE_DATETIME, 19),
        "TIMESTAMP" => with_fsp(MYSQL_TYPE_TIMESTAMP, 19),
        "TIME" => with_fsp(MYSQL_TYPE_TIME, 10),
        "YEAR" => MyType::new(
            MYSQL_TYPE_YEAR,
            4,
            0,
            ColumnFlags::UNSIGNED_FLAG | ColumnFlags::ZEROFILL_FLAG | ColumnFlags::NUM_FLAG,
            BINARY,
        ),
        "CHAR" | "NCHAR" | "CHARACTER" if !d.contains("VARYING") => {
            MyType::text(MYSQL_TYPE_STRING, arg0.unwrap_or(1))
        }
        "VARCHAR" | "NVARCHAR" | "CHARACTER" | "VARCHAR2" => {
            MyType::text(MYSQL_TYPE_VAR_STRING, arg0.unwrap_or(255))
        }
        "BINARY" => MyType::new(
            MYSQL_TYPE_STRING,
            arg0.unwrap_or(1),
            0,
            ColumnFlags::BINARY_FLAG,
            BINARY,
        ),
        "VARBINARY" => MyType::new(
            MYSQL_TYPE_VAR_STRING,
            arg0.unwrap_or(255),
            0,
            ColumnFlags::BINARY_FLAG,
            BINARY,
        ),
        "TINYBLOB" => blob(255),
        "BLOB" => blob(arg0.unwrap_or(65535)),
        "MEDIUMBLOB" => blob(16_777_215),
        "LONGBLOB" => blob(u32::MAX),
        "TINYTEXT" => text_blob(255),
        "TEXT" | "CLOB" => text_blob(arg0.unwrap_or(65535)),
        "MEDIUMTEXT" => text_blob(16_777_215),
        "LONGTEXT" | "JSON" => {
            let mut t = text_blob(0);
            t.attrs.len = u32::MAX;
            t
        }
        "BIT" => MyType::new(
            MYSQL_TYPE_BIT,
            arg0.unwrap_or(1),
            0,
            ColumnFlags::UNSIGNED_FLAG,
            BINARY,
        ),
        _ => MyType::text(MYSQL_TYPE_VAR_STRING, 255),
    }
}

/// The MySQL type of a table column, with NOT_NULL, PRI_KEY, AUTO_INCREMENT
/// and UNIQUE/MULTIPLE key flags from the table's schema.
pub fn table_column(
    conn: &Connection,
    db: Option<&str>,
    table: &str,
    column: &str,
) -> Option<MyType> {
    let (decl, _coll, not_null, pk, autoinc) = conn.column_metadata(db, table, column).ok()?;
    Some(column_of(decl, not_null, pk, autoinc))
}

/// The MySQL type of a table column from SQLite's metadata: its declared type
/// (`decl`), NOT NULL, primary key and AUTOINCREMENT.
fn column_of(decl: Option<&std::ffi::CStr>, not_null: bool, pk: bool, autoinc: bool) -> MyType {
    let decl = decl.and_then(|d| d.to_str().ok()).unwrap_or("");
    let mut t = from_decl(decl);
    let f = &mut t.attrs.flags;
    if not_null || pk {
        *f |= ColumnFlags::NOT_NULL_FLAG;
    }
    if pk {
        *f |= ColumnFlags::PRI_KEY_FLAG | ColumnFlags::PART_KEY_FLAG;
    }
    if autoinc {
        *f |= ColumnFlags::AUTO_INCREMENT_FLAG;
    }
    t
}

/// The MySQL type of result column `i` of an SQLite statement: a table
/// column's (with key flags) when the column comes straight from one, else
/// the expression's `hint`, else the declared type's. `None`: unknown (the
/// caller infers it from the values).
pub fn result_column(
    st: &rusqlite::Statement<'_>,
    i: usize,
    decl: Option<&str>,
    hint: Option<&Option<MyType>>,
) -> Option<MyType> {
    if let Ok(Some((db, _table, _col, decl, _coll, not_null, pk, autoinc))) = st.column_metadata(i)
    {
        // information_schema's virtual tables keep the legacy string types.
        if db.to_bytes() == b"information_schema" {
            return None;
        }
        return Some(column_of(decl, not_null, pk, autoinc));
    }
    if let Some(Some(t)) = hint {
        return Some(*t);
    }
    decl.map(from_decl)
}

/// A table of a FROM clause: SQLite schema (None: search all), name, alias.
struct FromTable {
    schema: Option<String>,
    name: String,
    alias: Option<String>,
}

/// What is needed to type the projection of a query: the connection (for
/// table schemas) and the current database.
pub struct Typer<'a> {
    conn: &'a Connection,
    db: Option<&'a str>,
    from: Vec<FromTable>,
}

impl<'a> Typer<'a> {
    /// A typer on `conn`, whose `main` schema is database `db`.
    pub fn new(conn: &'a Connection, db: Option<&'a str>) -> Self {
        Typer {
            conn,
            db,
            from: vec![],
        }
    }

    /// The MySQL type of each result column of `st` that is computed (not a
    /// plain column reference); `None` where unknown or where SQLite's
    /// declared type describes it. Empty when the statement is not a
    /// SELECT with an explicit column list.
    pub fn statement(&mut self, st: &Statement) -> Vec<Option<MyType>> {
        match st {
            Statement::Query(q) => self.query(q),
            _ => vec![],
        }
    }

    fn query(&mut self, q: &Query) -> Vec<Option<MyType>> {
        let SetExpr::Select(s) = q.body.as_ref() else {
            return vec![];
        };
        self.from.clear();
        for twj in &s.from {
            let rels = std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation));
            for r in rels {
                if let TableFactor::Table { name, alias, .. } = r {
                    let parts: Vec<String> = name
                        .0
                        .iter()
                        .filter_map(|p| p.as_ident())
                        .map(|i| i.value.clone())
                        .collect();
                    let (schema, name) = match parts.as_slice() {
                        [t] => (None, t.clone()),
                        [d, t] if Some(d.as_str()) == self.db => (Some("main".into()), t.clone()),
                        [d, t] => (Some(d.clone()), t.clone()),
                        _ => continue,
                    };
                    self.from.push(FromTable {
                        schema,
                        name,
                        alias: alias.as_ref().map(|a| a.name.value.clone()),
                    });
                }
            }
        }
        let mut out = Vec::with_capacity(s.projection.len());
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    out.push(match e {
                        // Plain columns: SQLite's declared type and origin say more.
                        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => None,
                        e => self.expr(e),
                    })
                }
                // `*` expands to an unknown number of columns.
                _ => return vec![],
            }
        }
        out
    }

    fn column(&self, parts: &[String]) -> Option<MyType> {
        let (qual, col) = match parts {
            [c] => (None, c),
            [t, c] => (Some(t.as_str()), c),
            [_, t, c] => (Some(t.as_str()), c),
            _ => return None,
        };
        self.from
            .iter()
            .filter(|t| {
                qual.is_none_or(|q| {
                    t.alias.as_deref() == Some(q) || (t.alias.is_none() && t.name == q)
                })
            })
            .find_map(|t| table_column(self.conn, t.schema.as_deref(), &t.name, col))
    }

    /// The type of an expression, `None` when unknown.
    pub fn expr(&self, e: &Expr) -> Option<MyType> {
        use ColumnType::*;
        match e {
            Expr::Identifier(i) => self.column(std::slice::from_ref(&i.value)),
            Expr::CompoundIdentifier(v) => {
                let parts: Vec<String> = v.iter().map(|i| i.value.clone()).collect();
                self.column(&parts)
            }
            Expr::Nested(e) => self.expr(e),
            Expr::Value(v) => literal(&v.value),
            Expr::UnaryOp {
                op: UnaryOperator::Minus | UnaryOperator::Plus,
                expr,
            } => self.expr(expr).map(|mut t| {
                t.attrs.len += 1;
                t.attrs.flags.remove(ColumnFlags::UNSIGNED_FLAG);
                binary_num(t)
            }),
            Expr::BinaryOp { left, op, right } => self.binary(left, op, right),
            Expr::Cast {
                kind: CastKind::Cast | CastKind::TryCast,
                data_type,
                expr,
                ..
            } => cast_type(data_type).map(|mut t| {
                let inner = self.expr(expr);
                if inner.is_some_and(|i| i.attrs.flags.contains(ColumnFlags::NOT_NULL_FLAG)) {
                    t.attrs.flags |= ColumnFlags::NOT_NULL_FLAG;
                }
                t
            }),
            Expr::Function(f) => {
                let name = f
                    .name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(|i| i.value.to_ascii_uppercase())
                    .unwrap_or_default();
                let args: Vec<&Expr> = match &f.args {
                    FunctionArguments::List(l) => l
                        .args
                        .iter()
                        .filter_map(|a| match a {
                            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                            _ => None,
                        })
                        .collect(),
                    _ => vec![],
                };
                let nn = |mut t: MyType| {
                    t.attrs.flags |= ColumnFlags::NOT_NULL_FLAG;
                    t
                };
                let arg = |i: usize| args.get(i).and_then(|a| self.expr(a));
                Some(match name.as_str() {
                    "NOW" | "CURRENT_TIMESTAMP" | "LOCALTIME" | "LOCALTIMESTAMP" | "SYSDATE"
                    | "UTC_TIMESTAMP" | "MINNOW_NOW" => {
                        nn(fsp_type(MYSQL_TYPE_DATETIME, 19, args.first()))
                    }
                    "CURDATE" | "CURRENT_DATE" | "UTC_DATE" | "MINNOW_CURDATE" => {
                        nn(MyType::temporal(MYSQL_TYPE_DATE, 10, 0))
                    }
                    "CURTIME" | "CURRENT_TIME" | "UTC_TIME" | "MINNOW_CURTIME" => {
                        nn(fsp_type(MYSQL_TYPE_TIME, 10, args.first()))
                    }
                    "DATE" | "LAST_DAY" | "MAKEDATE" | "FROM_DAYS" => {
                        MyType::temporal(MYSQL_TYPE_DATE, 10, 0)
                    }
                    "TIME" | "TIMEDIFF" | "SEC_TO_TIME" | "MAKETIME" => {
                        MyType::temporal(MYSQL_TYPE_TIME, 10, 0)
                    }
                    "TIMESTAMP" | "FROM_UNIXTIME" => MyType::temporal(MYSQL_TYPE_DATETIME, 19, 0),
                    // `minnow_date_add(d, e, 'unit', ±1, 'orig')` (see `syntax`).
                    "MINNOW_DATE_ADD" => {
                        let base = arg(0)?;
                        let unit = match args.get(2) {
                            Some(Expr::Value(v)) => match &v.value {
                                Value::SingleQuotedString(u) => u.to_ascii_uppercase(),
                                _ => return None,
                            },
                            _ => return None,
                        };
                        let day_unit = matches!(
                            unit.as_str(),
                            "DAY" | "WEEK" | "MONTH" | "QUARTER" | "YEAR" | "YEAR_MONTH"
                        );
                        match base.ty {
                            MYSQL_TYPE_DATE if day_unit => MyType::temporal(MYSQL_TYPE_DATE, 10, 0),
                            MYSQL_TYPE_DATE | MYSQL_TYPE_DATETIME | MYSQL_TYPE_TIMESTAMP => {
                                MyType::temporal(MYSQL_TYPE_DATETIME, 19, base.attrs.decimals)
                            }
                            _ => return None,
                        }
                    }
                    "MINNOW_TIMESTAMPDIFF" | "MINNOW_DIV" => binary_num(MyType::longlong(21)),
                    "YEAR" | "MONTH" | "DAY" | "DAYOFMONTH" | "HOUR" | "MINUTE" | "SECOND"
                    | "DAYOFWEEK" | "DAYOFYEAR" | "WEEKDAY" | "QUARTER" | "WEEK" => {
                        let len = if name == "YEAR" || name == "DAYOFYEAR" {
                            4
                        } else {
                            2
                        };
                        let mut t = MyType::num(MYSQL_TYPE_LONG, len, 0);
                        t.attrs.flags |= ColumnFlags::BINARY_FLAG;
                        t
                    }
                    "LENGTH" | "CHAR_LENGTH" | "CHARACTER_LENGTH" | "OCTET_LENGTH"
                    | "BIT_LENGTH" | "LOCATE" | "INSTR" => {
                        let mut t = MyType::num(MYSQL_TYPE_LONG, 10, 0);
                        t.attrs.flags |= ColumnFlags::BINARY_FLAG;
                        t
                    }
                    "COUNT" => {
                        let mut t = nn(MyType::longlong(21));
                        t.attrs.flags |= ColumnFlags::BINARY_FLAG;
                        t
                    }
                    "SUM" => {
                        let a = arg(0)?;
                        if a.is_float() {
                            binary_num(MyType::num(MYSQL_TYPE_DOUBLE, 23, 31))
                        } else if a.is_integer() || a.is_decimal() {
                            let s = a.attrs.decimals.min(30);
                            let prec = a.int_digits() + u32::from(s) + 22;
                            binary_num(MyType::decimal(prec, s, false))
                        } else {
                            return None;
                        }
                    }
                    "AVG" => {
                        let a = arg(0)?;
                        if a.is_float() {
                            binary_num(MyType::num(MYSQL_TYPE_DOUBLE, 23, 31))
                        } else if a.is_integer() || a.is_decimal() {
                            let s = (a.attrs.decimals + DIV_INCREMENT).min(30);
                            let prec = a.int_digits() + u32::from(s);
                            binary_num(MyType::decimal(prec, s, false))
                        } else {
                            return None;
                        }
                    }
                    "MIN" | "MAX" => {
                        let mut t = arg(0)?;
                        t.attrs.flags &= ColumnFlags::UNSIGNED_FLAG
                            | ColumnFlags::BINARY_FLAG
                            | ColumnFlags::BLOB_FLAG
                            | ColumnFlags::NUM_FLAG;
                        if t.attrs.charset == BINARY {
                            t.attrs.flags |= ColumnFlags::BINARY_FLAG;
                        } else {
                            // A computed string: no fixed scale.
                            t.attrs.decimals = 39;
                        }
                        t
                    }
                    "ROUND" | "TRUNCATE" => {
                        let a = arg(0)?;
                        let d = match args.get(1) {
                            Some(Expr::Value(v)) => match &v.value {
                                Value::Number(n, _) => n.parse::<u8>().ok()?,
                                _ => return None,
                            },
                            None => 0,
                            _ => return None,
                        };
                        if a.is_decimal() {
                            let s = d.min(a.attrs.decimals);
                            binary_num(MyType::decimal(a.int_digits() + u32::from(s), s, false))
                        } else {
                            return None;
                        }
                    }
                    _ => return None,
                })
            }
            _ => None,
        }
    }

    fn binary(&self, l: &Expr, op: &BinaryOperator, r: &Expr) -> Option<MyType> {
        use BinaryOperator as B;
        let cmp = matches!(
            op,
            B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq | B::And | B::Or | B::Spaceship
        );
        if cmp {
            return Some(binary_num(MyType::num(ColumnType::MYSQL_TYPE_LONG, 1, 0)));
        }
        if !matches!(
            op,
            B::Plus | B::Minus | B::Multiply | B::Divide | B::MyIntegerDivide
        ) {
            return None;
        }
        let (a, b) = (self.expr(l)?, self.expr(r)?);
        let not_null = *op != B::Divide
            && *op != B::MyIntegerDivide
            && a.attrs.flags.contains(ColumnFlags::NOT_NULL_FLAG)
            && b.attrs.flags.contains(ColumnFlags::NOT_NULL_FLAG);
        self.arith(a, op, b).map(|mut t| {
            if not_null {
                t.attrs.flags |= ColumnFlags::NOT_NULL_FLAG;
            }
            t
        })
    }

    /// The type of arithmetic `a op b` (MySQL's precision and scale rules).
    fn arith(&self, a: MyType, op: &BinaryOperator, b: MyType) -> Option<MyType> {
        use BinaryOperator as B;
        if a.is_float() || b.is_float() {
            return Some(binary_num(MyType::num(
                ColumnType::MYSQL_TYPE_DOUBLE,
                23,
                31,
            )));
        }
        if !(a.is_integer() || a.is_decimal()) || !(b.is_integer() || b.is_decimal()) {
            return None;
        }
        let (sa, sb) = (a.attrs.decimals, b.attrs.decimals);
        let (ia, ib) = (a.int_digits(), b.int_digits());
        if *op == B::MyIntegerDivide {
            return Some(binary_num(MyType::longlong(ia.max(1))));
        }
        // MySQL: a product is unsigned if either factor is, a sum if both are.
        let (ua, ub) = (
            a.attrs.flags.contains(ColumnFlags::UNSIGNED_FLAG),
            b.attrs.flags.contains(ColumnFlags::UNSIGNED_FLAG),
        );
        let unsigned = match op {
            B::Multiply => ua || ub,
            B::Plus | B::Minus => ua && ub,
            _ => false,
        };
        if a.is_integer() && b.is_integer() && *op != B::Divide {
            let len = match op {
                B::Multiply => ia + ib,
                _ => ia.max(ib) + 1,
            };
            // Short enough for 32 bits: MySQL's result is an INT.
            let mut t = if len <= 10 {
                MyType::num(ColumnType::MYSQL_TYPE_LONG, len, 0)
            } else {
                MyType::longlong(len)
            };
            if unsigned {
                t.attrs.flags |= ColumnFlags::UNSIGNED_FLAG;
            }
            return Some(binary_num(t));
        }
        let (s, int) = match op {
            B::Plus | B::Minus => (sa.max(sb), ia.max(ib) + 1),
            B::Multiply => (sa + sb, ia + ib),
            _ => (sa + DIV_INCREMENT, ia + u32::from(sb)),
        };
        let s = s.min(30);
        Some(binary_num(MyType::decimal(int + u32::from(s), s, unsigned)))
    }
}

fn binary_num(mut t: MyType) -> MyType {
    t.attrs.flags |= ColumnFlags::BINARY_FLAG;
    t
}

fn fsp_type(ty: ColumnType, len: u32, arg: Option<&&Expr>) -> MyType {
    let fsp = match arg {
        Some(Expr::Value(v)) => match &v.value {
            Value::Number(n, _) => n.parse::<u8>().unwrap_or(0).min(6),
            _ => 0,
        },
        _ => 0,
    };
    let len = if fsp > 0 {
        len + 1 + u32::from(fsp)
    } else {
        len
    };
    MyType::temporal(ty, len, fsp)
}

fn literal(v: &Value) -> Option<MyType> {
    use ColumnType::*;
    let mut t = match v {
        Value::Number(n, _) => {
            let digits = n.trim_start_matches('-').len() as u32;
            if n.contains(['e', 'E']) {
                MyType::num(MYSQL_TYPE_DOUBLE, digits, 31)
            } else if let Some((i, f)) = n.split_once('.') {
                let s = f.len().min(30) as u8;
                MyType::decimal(i.len().max(1) as u32 + u32::from(s), s, false)
            } else if n.parse::<i32>().is_ok() {
                MyType::num(MYSQL_TYPE_LONG, digits, 0)
            } else {
                MyType::longlong(digits)
            }
        }
        _ => return None,
    };
    t.attrs.flags |= ColumnFlags::NOT_NULL_FLAG | ColumnFlags::BINARY_FLAG;
    Some(t)
}

fn cast_type(dt: &DataType) -> Option<MyType> {
    use ColumnType::*;
    let s = dt.to_string().to_ascii_uppercase();
    Some(match dt {
        DataType::Date => MyType::temporal(MYSQL_TYPE_DATE, 10, 0),
        DataType::Datetime(p) => {
            let f = p.unwrap_or(0).min(6) as u8;
            MyType::temporal(
                MYSQL_TYPE_DATETIME,
                19 + if f > 0 { 1 + u32::from(f) } else { 0 },
                f,
            )
        }
        DataType::Time(p, _) => {
            let f = p.unwrap_or(0).min(6) as u8;
            MyType::temporal(
                MYSQL_TYPE_TIME,
                10 + if f > 0 { 1 + u32::from(f) } else { 0 },
                f,
            )
        }
        _ if s.starts_with("DECIMAL") || s.starts_with("NUMERIC") || s.starts_with("DEC") => {
            binary_num(from_decl(&s))
        }
        _ if s.starts_with("SIGNED") => binary_num(MyType::longlong(21)),
        _ if s.starts_with("UNSIGNED") => {
            let mut t = binary_num(MyType::longlong(20));
            t.attrs.flags |= ColumnFlags::UNSIGNED_FLAG;
            t
        }
        _ if s.starts_with("DOUBLE") => binary_num(MyType::double()),
        _ => return None,
    })
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn civil_days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A TIMEDIFF operand in microseconds: a datetime (since the epoch) or a time
/// (`true` in the flag).
fn time_operand(v: rusqlite::types::ValueRef<'_>) -> Option<(i64, bool)> {
    use crate::protocol::{parse_datetime, parse_time};
    let t = match v {
        rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().to_string(),
        rusqlite::types::ValueRef::Integer(i) => i.to_string(),
        _ => return None,
    };
    if t.contains('-') && t.len() >= 10 && !t.starts_with('-') {
        let (y, m, d, h, mi, s, us) = parse_datetime(&t)?;
        let days = civil_days(i64::from(y), i64::from(m), i64::from(d));
        let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
        return Some((secs * 1_000_000 + i64::from(us), false));
    }
    let (neg, h, mi, s, us) = parse_time(&t)?;
    let v = (i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s)) * 1_000_000 + i64::from(us);
    Some((if neg { -v } else { v }, true))
}

/// MySQL's TIME text for a signed number of microseconds, clamped to
/// ±838:59:59 as MySQL does.
fn time_text(us: i64) -> String {
    let max = (838 * 3600 + 59 * 60 + 59) * 1_000_000i64;
    let v = us.clamp(-max, max);
    let a = v.unsigned_abs();
    let (secs, frac) = (a / 1_000_000, a % 1_000_000);
    let mut out = format!(
        "{}{:02}:{:02}:{:02}",
        if v < 0 { "-" } else { "" },
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if frac != 0 {
        out.push_str(&format!(".{frac:06}"));
    }
    out
}

/// Registers the functions whose result types this module describes and
/// that SQLite lacks or spells differently: `TIMEDIFF` (SQLite's own
/// returns `+0000-00-00 11:34:56.000`).
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "timediff",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let a = time_operand(ctx.get_raw(0));
            let b = time_operand(ctx.get_raw(1));
            Ok(match (a, b) {
                // Both times or both datetimes, as MySQL requires.
                (Some((a, ta)), Some((b, tb))) if ta == tb => Some(time_text(a - b)),
                _ => None,
            })
        },
    )
}

/// Formats a DECIMAL value with exactly `scale` digits after the point.
fn decimal_text(c: &Cell, scale: u8) -> Option<String> {
    let s = usize::from(scale);
    match c {
        Cell::Integer(i) if s == 0 => Some(i.to_string()),
        Cell::Integer(i) => Some(format!("{i}.{}", "0".repeat(s))),
        Cell::Real(f) if f.is_finite() => {
            let t = format!("{f:.s$}");
            // `-0.00` prints as `0.00` in MySQL.
            if t.starts_with('-') && t[1..].bytes().all(|b| b == b'0' || b == b'.') {
                Some(t[1..].to_string())
            } else {
                Some(t)
            }
        }
        Cell::Text(t) => {
            let v: f64 = t.trim().parse().ok()?;
            if t.contains(['e', 'E']) || t.trim().len() > 15 {
                return None;
            }
            decimal_text(&Cell::Real(v), scale)
        }
        _ => None,
    }
}

/// Formats the values of typed columns as MySQL prints them: DECIMAL with its
/// scale, DATETIME/DATE cut to their precision.
pub fn format_values(columns: &[ColDef], rows: &mut [Vec<Cell>]) {
    for (i, c) in columns.iter().enumerate() {
        let Some(a) = c.attrs else { continue };
        if c.ty == ColumnType::MYSQL_TYPE_NEWDECIMAL {
            for r in rows.iter_mut() {
                if let Some(t) = decimal_text(&r[i], a.decimals) {
                    r[i] = Cell::Text(t);
                }
            }
        }
    }
}

/// The type of a computed string column (MySQL gives expressions without a
/// fixed scale 39 decimals, `NOT_FIXED_DEC`).
pub fn computed_string() -> ColAttrs {
    ColAttrs {
        len: 1024,
        decimals: 39,
        flags: ColumnFlags::empty(),
        charset: UTF8MB4,
    }
}

/// Whether `col`'s values need formatting (any DECIMAL column).
pub fn needs_format(columns: &[ColDef]) -> bool {
    columns
        .iter()
        .any(|c| c.attrs.is_some() && c.ty == ColumnType::MYSQL_TYPE_NEWDECIMAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types() {
        let t = from_decl("int(11) unsigned");
        assert_eq!(t.ty, ColumnType::MYSQL_TYPE_LONG);
        assert_eq!(t.attrs.len, 10);
        assert!(t.attrs.flags.contains(ColumnFlags::UNSIGNED_FLAG));
        let t = from_decl("DECIMAL(10,2)");
        assert_eq!(
            (t.ty, t.attrs.len, t.attrs.decimals),
            (ColumnType::MYSQL_TYPE_NEWDECIMAL, 12, 2)
        );
        assert_eq!(t.int_digits(), 8);
        let t = from_decl("DECIMAL(6,3) UNSIGNED");
        assert_eq!((t.attrs.len, t.int_digits()), (7, 3));
        assert_eq!(from_decl("datetime(3)").attrs.decimals, 3);
        assert_eq!(from_decl("datetime(3)").attrs.len, 23);
        assert_eq!(from_decl("varchar(20)").attrs.len, 80);
        assert_eq!(from_decl("varbinary(8)").attrs.charset, BINARY);
        assert_eq!(from_decl("TEXT").ty, ColumnType::MYSQL_TYPE_BLOB);
        assert_eq!(from_decl("TEXT").attrs.charset, UTF8MB4);
        assert_eq!(
            from_decl("character varying(5)").ty,
            ColumnType::MYSQL_TYPE_VAR_STRING
        );
        assert_eq!(from_decl("char(5)").ty, ColumnType::MYSQL_TYPE_STRING);
    }

    #[test]
    fn timediff_values() {
        let c = Connection::open_in_memory().expect("db");
        register(&c).expect("register");
        let q = |sql: &str| -> Option<String> { c.query_row(sql, [], |r| r.get(0)).expect(sql) };
        assert_eq!(
            q("SELECT timediff('12:34:56', '01:00:00')").as_deref(),
            Some("11:34:56")
        );
        assert_eq!(
            q("SELECT timediff('01:00:00', '12:34:56.5')").as_deref(),
            Some("-11:34:56.500000")
        );
        assert_eq!(
            q("SELECT timediff('2024-01-03 00:00:00', '2024-01-01 12:00:00')").as_deref(),
            Some("36:00:00")
        );
        assert_eq!(
            q("SELECT timediff('2000-01-01 00:00:00', '2024-01-01 00:00:00')").as_deref(),
            Some("-838:59:59")
        );
        assert_eq!(
            q("SELECT timediff('12:00:00', '2024-01-01 00:00:00')"),
            None
        );
        assert_eq!(q("SELECT timediff('nonsense', NULL)"), None);
    }

    #[test]
    fn decimal_values_keep_their_scale() {
        assert_eq!(decimal_text(&Cell::Real(1.5), 2).as_deref(), Some("1.50"));
        assert_eq!(decimal_text(&Cell::Integer(3), 2).as_deref(), Some("3.00"));
        assert_eq!(
            decimal_text(&Cell::Real(-0.001), 2).as_deref(),
            Some("0.00")
        );
        assert_eq!(
            decimal_text(&Cell::Text("2.5".into()), 3).as_deref(),
            Some("2.500")
        );
        assert_eq!(decimal_text(&Cell::Text("abc".into()), 3), None);
        assert_eq!(decimal_text(&Cell::Null, 3), None);
    }
}

#[cfg(test)]
mod typer_tests {
    use super::*;
    use sqlparser::dialect::MySqlDialect;
    use sqlparser::parser::Parser;

    fn types_of(sql: &str) -> Vec<Option<ColumnType>> {
        let c = Connection::open_in_memory().expect("db");
        c.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, d DECIMAL(10,2), dt DATETIME, da DATE, db DOUBLE)",
        )
        .expect("table");
        let st = Parser::parse_sql(&MySqlDialect {}, sql).expect("parse");
        Typer::new(&c, Some("x"))
            .statement(&st[0])
            .iter()
            .map(|t| t.map(|t| t.ty))
            .collect()
    }

    #[test]
    fn expressions() {
        use ColumnType::*;
        assert_eq!(
            types_of(
                "SELECT minnow_date_add(dt, 1, 'DAY', 1, 'x'), minnow_date_add(da, 1, 'DAY', 1, 'x'), SUM(d), COUNT(*), d*2, db+1, id FROM t"
            ),
            vec![
                Some(MYSQL_TYPE_DATETIME),
                Some(MYSQL_TYPE_DATE),
                Some(MYSQL_TYPE_NEWDECIMAL),
                Some(MYSQL_TYPE_LONGLONG),
                Some(MYSQL_TYPE_NEWDECIMAL),
                Some(MYSQL_TYPE_DOUBLE),
                None
            ]
        );
    }
}
