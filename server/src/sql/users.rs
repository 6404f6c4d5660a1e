//! Account statements the server runs itself: `ALTER USER … IDENTIFIED …`,
//! `SET PASSWORD [FOR u] = …`, and the password checks `CREATE USER` shares
//! with them. Every new clear-text password goes through the installed password
//! validation plugins first; a refusal is error 1819, as for `CREATE USER`.

use minnow_plugin_host::{PluginState, PluginType};
use sqlparser::tokenizer::{Token, TokenWithSpan};

use mysql_common::constants::ColumnType;

use super::Outcome;
use crate::datadir::{GLOBAL_PRIVILEGES, native_hash};
use crate::error::{SqlError, code};
use crate::protocol::{Cell, ColDef, ResultSet};
use crate::session::Session;

/// `'user'@'host'`, or the session's own account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UserRef {
    /// A named account (host `%` when omitted).
    Named(String, String),
    /// `CURRENT_USER[()]` / `USER()`, or no `FOR` clause.
    Current,
}

/// How the new password is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NewPassword {
    /// Clear text: validated, then stored in the account plugin's form.
    Plain(String),
    /// A `mysql_native_password` hash (`*` and 40 hex digits, or empty).
    Hash(String),
}

/// The statements of this module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UserStatement {
    /// `ALTER USER [IF EXISTS] u IDENTIFIED [WITH plugin] {BY 'pw' | BY PASSWORD 'hash' | AS 'hash'}`
    AlterUser {
        if_exists: bool,
        user: UserRef,
        plugin: Option<String>,
        password: Option<NewPassword>,
    },
    /// `SET PASSWORD [FOR u] = {PASSWORD('pw') | 'hash-or-plain'}`
    SetPassword {
        user: UserRef,
        password: NewPassword,
    },
    /// `GRANT privs ON *.* TO u[, u…] [WITH GRANT OPTION]`
    Grant {
        privileges: Vec<&'static str>,
        grant_option: bool,
        users: Vec<UserRef>,
    },
    /// `REVOKE privs ON *.* FROM u[, u…]` / `REVOKE ALL [PRIVILEGES], GRANT OPTION FROM u…`
    Revoke {
        privileges: Vec<&'static str>,
        grant_option: bool,
        users: Vec<UserRef>,
    },
    /// `SHOW GRANTS [FOR u]`
    ShowGrants(UserRef),
}

struct Cursor<'a> {
    toks: Vec<&'a Token>,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos).copied()
    }
    fn keyword(&mut self, k: &str) -> bool {
        let hit = matches!(self.peek(), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
        if hit {
            self.pos += 1;
        }
        hit
    }
    fn expect(&mut self, k: &str) -> Result<(), SqlError> {
        if self.keyword(k) {
            Ok(())
        } else {
            Err(self.err(&format!("{k} expected")))
        }
    }
    fn err(&self, what: &str) -> SqlError {
        let near = self.peek().map(|t| t.to_string()).unwrap_or_default();
        SqlError::parse(&near, what)
    }
    fn string(&mut self) -> Result<String, SqlError> {
        match self.peek() {
            Some(Token::SingleQuotedString(s) | Token::DoubleQuotedString(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.err("string expected")),
        }
    }
    fn name(&mut self) -> Result<String, SqlError> {
        match self.peek() {
            Some(Token::SingleQuotedString(s) | Token::DoubleQuotedString(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            Some(Token::Word(w)) => {
                let s = w.value.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.err("name expected")),
        }
    }
    fn user(&mut self) -> Result<UserRef, SqlError> {
        if self.keyword("CURRENT_USER") || self.keyword("USER") {
            if matches!(self.peek(), Some(Token::LParen)) {
                self.pos += 1;
                if !matches!(self.peek(), Some(Token::RParen)) {
                    return Err(self.err(") expected"));
                }
                self.pos += 1;
            }
            return Ok(UserRef::Current);
        }
        let user = self.name()?;
        let host = match self.peek() {
            Some(Token::AtSign) => {
                self.pos += 1;
                self.name()?
            }
            Some(Token::Word(w)) if w.value.starts_with('@') => {
                let h = w.value[1..].to_string();
                self.pos += 1;
                h
            }
            _ => "%".to_string(),
        };
        Ok(UserRef::Named(user, host))
    }
    fn end(&self) -> Result<(), SqlError> {
        if self.pos < self.toks.len() {
            return Err(self.err("unexpected text"));
        }
        Ok(())
    }
}

fn is_native_hash(s: &str) -> bool {
    s.is_empty()
        || (s.len() == 41 && s.starts_with('*') && s[1..].chars().all(|c| c.is_ascii_hexdigit()))
}

/// Parses `ALTER USER` and `SET PASSWORD`; `Ok(None)` for other statements.
pub(crate) fn parse(toks: &[TokenWithSpan]) -> Result<Option<UserStatement>, SqlError> {
    let mut c = Cursor {
        toks: toks
            .iter()
            .map(|t| &t.token)
            .filter(|t| !matches!(t, Token::Whitespace(_) | Token::EOF | Token::SemiColon))
            .collect(),
        pos: 0,
    };
    if c.keyword("ALTER") {
        if !c.keyword("USER") {
            return Ok(None);
        }
        let if_exists = if c.keyword("IF") {
            c.expect("EXISTS")?;
            true
        } else {
            false
        };
        let user = c.user()?;
        if !c.keyword("IDENTIFIED") {
            return Err(SqlError::new(
                code::ER_NOT_SUPPORTED_YET,
                "This version of Minnow doesn't yet support 'ALTER USER' without IDENTIFIED (account locking, password expiry, resource limits)",
            ));
        }
        let plugin = if c.keyword("WITH") {
            Some(c.name()?)
        } else {
            None
        };
        let password = if c.keyword("BY") {
            if c.keyword("PASSWORD") {
                Some(NewPassword::Hash(c.string()?))
            } else {
                Some(NewPassword::Plain(c.string()?))
            }
        } else if c.keyword("AS") {
            Some(NewPassword::Hash(c.string()?))
        } else if plugin.is_none() {
            return Err(c.err("BY or WITH expected"));
        } else {
            None
        };
        c.end()?;
        return Ok(Some(UserStatement::AlterUser {
            if_exists,
            user,
            plugin,
            password,
        }));
    }
    if c.keyword("SET") {
        if !c.keyword("PASSWORD") {
            return Ok(None);
        }
        let user = if c.keyword("FOR") {
            c.user()?
        } else {
            UserRef::Current
        };
        if !matches!(c.peek(), Some(Token::Eq)) {
            return Err(c.err("= expected"));
        }
        c.pos += 1;
        let password = if c.keyword("PASSWORD") {
            if !matches!(c.peek(), Some(Token::LParen)) {
                return Err(c.err("( expected"));
            }
            c.pos += 1;
            let p = c.string()?;
            if !matches!(c.peek(), Some(Token::RParen)) {
                return Err(c.err(") expected"));
            }
            c.pos += 1;
            NewPassword::Plain(p)
        } else {
            // MariaDB takes a literal as the stored hash; one that is not a hash is
            // taken as clear text, as MySQL 8 does.
            let s = c.string()?;
            if is_native_hash(&s) {
                NewPassword::Hash(s)
            } else {
                NewPassword::Plain(s)
            }
        };
        c.end()?;
        return Ok(Some(UserStatement::SetPassword { user, password }));
    }
    if c.keyword("SHOW") {
        if !c.keyword("GRANTS") {
            return Ok(None);
        }
        let user = if c.keyword("FOR") {
            c.user()?
        } else {
            UserRef::Current
        };
        c.end()?;
        return Ok(Some(UserStatement::ShowGrants(user)));
    }
    let grant = c.keyword("GRANT");
    if grant || c.keyword("REVOKE") {
        let (privileges, mut grant_option) = c.privileges()?;
        let on = if c.keyword("ON") {
            true
        } else if !grant && grant_option {
            // REVOKE ALL PRIVILEGES, GRANT OPTION FROM …
            false
        } else {
            return Err(c.err("ON expected"));
        };
        if on {
            let is =
                |c: &Cursor<'_>, i: usize, t: &Token| c.toks.get(c.pos + i).copied() == Some(t);
            let global =
                is(&c, 0, &Token::Mul) && is(&c, 1, &Token::Period) && is(&c, 2, &Token::Mul);
            if !global {
                return Err(SqlError::new(
                    code::ER_NOT_SUPPORTED_YET,
                    "This version of Minnow doesn't yet support 'privileges on a database or table' (only ON *.*)",
                ));
            }
            c.pos += 3;
        }
        c.expect(if grant { "TO" } else { "FROM" })?;
        let mut users = vec![c.user()?];
        while matches!(c.peek(), Some(Token::Comma)) {
            c.pos += 1;
            users.push(c.user()?);
        }
        if grant && c.keyword("WITH") {
            c.expect("GRANT")?;
            c.expect("OPTION")?;
            grant_option = true;
        }
        c.end()?;
        return Ok(Some(if grant {
            UserStatement::Grant {
                privileges,
                grant_option,
                users,
            }
        } else {
            UserStatement::Revoke {
                privileges,
                grant_option,
                users,
            }
        }));
    }
    Ok(None)
}

impl Cursor<'_> {
    /// `priv [, priv…]` up to ON / FROM: the privileges (ALL expanded) and
    /// whether GRANT OPTION was named.
    fn privileges(&mut self) -> Result<(Vec<&'static str>, bool), SqlError> {
        let mut out: Vec<&'static str> = Vec::new();
        let mut grant_option = false;
        loop {
            let mut words = Vec::new();
            while let Some(Token::Word(w)) = self.peek() {
                if w.quote_style.is_none()
                    && ["ON", "FROM", "TO"]
                        .iter()
                        .any(|k| w.value.eq_ignore_ascii_case(k))
                {
                    break;
                }
                words.push(w.value.to_ascii_uppercase());
                self.pos += 1;
            }
            let name = words.join(" ");
            match name.as_str() {
                "" => return Err(self.err("privilege expected")),
                "ALL" | "ALL PRIVILEGES" => out.extend(GLOBAL_PRIVILEGES),
                "GRANT OPTION" => grant_option = true,
                "USAGE" => {}
                other => match GLOBAL_PRIVILEGES.iter().find(|p| **p == other) {
                    Some(p) => out.push(p),
                    None => {
                        return Err(SqlError::parse(
                            other,
                            "unknown privilege (or a column list, which Minnow does not support)",
                        ));
                    }
                },
            }
            if matches!(self.peek(), Some(Token::Comma)) {
                self.pos += 1;
                continue;
            }
            break;
        }
        Ok((out, grant_option))
    }
}

fn quote_account(user: &str, host: &str) -> String {
    format!(
        "`{}`@`{}`",
        user.replace('`', "``"),
        host.replace('`', "``")
    )
}

/// `SHOW GRANTS` text for an account's global privileges.
pub(crate) fn grant_text(user: &str, host: &str, privs: &[&str], grant_option: bool) -> String {
    let list = if privs.len() == GLOBAL_PRIVILEGES.len() {
        "ALL PRIVILEGES".to_string()
    } else if privs.is_empty() {
        "USAGE".to_string()
    } else {
        privs.join(", ")
    };
    let mut s = format!("GRANT {list} ON *.* TO {}", quote_account(user, host));
    if grant_option {
        s.push_str(" WITH GRANT OPTION");
    }
    s
}

impl Session {
    /// Runs every installed password validation plugin on `password` (1819 on a refusal).
    pub(crate) fn validate_new_password(&mut self, password: &str) -> Result<(), SqlError> {
        self.psess
            .validate_password(password.as_bytes())
            .map_err(|e| crate::plugins::sql_error(&e))
    }

    /// A hash cannot be validated: with a validation plugin ACTIVE it is refused
    /// (MariaDB's `strict_password_validation`), as a weak password would be.
    fn check_hash_allowed(&self) -> Result<(), SqlError> {
        let strict = self.shared.plugins.plugins().into_iter().find(|p| {
            p.plugin_type == PluginType::PasswordValidation && p.status == PluginState::Active
        });
        match strict {
            Some(p) => Err(SqlError::new(
                code::ER_NOT_VALID_PASSWORD,
                format!(
                    "Your password does not satisfy the current policy requirements (plugin '{}': a password hash cannot be validated)",
                    p.name
                ),
            )),
            None => Ok(()),
        }
    }

    /// Runs an account statement.
    pub(crate) fn user_statement(&mut self, st: UserStatement) -> Result<Outcome, SqlError> {
        match st {
            UserStatement::AlterUser {
                if_exists,
                user,
                plugin,
                password,
            } => {
                let (u, h) = self.resolve_user(&user);
                let own =
                    user == UserRef::Current || (u == self.account.user && h == self.account.host);
                if !own && !self.account.super_priv {
                    return Err(SqlError::access_denied_priv("CREATE USER"));
                }
                let Some((cur_plugin, _)) = self.shared.datadir.user_auth(&u, &h)? else {
                    if if_exists {
                        self.warnings.push((
                            code::ER_CANNOT_USER,
                            format!("Operation ALTER USER failed for '{u}'@'{h}'"),
                        ));
                        return Ok(Outcome::ok(0));
                    }
                    return Err(SqlError::new(
                        code::ER_CANNOT_USER,
                        format!("Operation ALTER USER failed for '{u}'@'{h}'"),
                    ));
                };
                let plugin = plugin.unwrap_or(cur_plugin);
                let auth = self.auth_string(&plugin, password.as_ref())?;
                self.shared.datadir.set_user_auth(&u, &h, &plugin, &auth)?;
                Ok(Outcome::ok(0))
            }
            UserStatement::SetPassword { user, password } => {
                let (u, h) = self.resolve_user(&user);
                let own =
                    user == UserRef::Current || (u == self.account.user && h == self.account.host);
                if !own && !self.account.super_priv {
                    return Err(SqlError::db_access_denied(
                        &self.account.user,
                        &self.account.host,
                        "mysql",
                    ));
                }
                let Some((plugin, _)) = self.shared.datadir.user_auth(&u, &h)? else {
                    return Err(SqlError::new(
                        code::ER_PASSWORD_NO_MATCH,
                        "Can't find any matching row in the user table",
                    ));
                };
                let auth = self.auth_string(&plugin, Some(&password))?;
                self.shared.datadir.set_user_auth(&u, &h, &plugin, &auth)?;
                Ok(Outcome::ok(0))
            }
            UserStatement::Grant {
                privileges,
                grant_option,
                users,
            } => self.grant_or_revoke(true, &privileges, grant_option, &users),
            UserStatement::Revoke {
                privileges,
                grant_option,
                users,
            } => self.grant_or_revoke(false, &privileges, grant_option, &users),
            UserStatement::ShowGrants(user) => self.show_grants(&user),
        }
    }

    fn grant_or_revoke(
        &mut self,
        grant: bool,
        privileges: &[&'static str],
        grant_option: bool,
        users: &[UserRef],
    ) -> Result<Outcome, SqlError> {
        if !self.account.super_priv {
            return Err(SqlError::access_denied_priv("GRANT OPTION"));
        }
        // Check every account first: a statement naming an unknown one changes nothing.
        let mut current = Vec::new();
        for u in users {
            let (name, host) = self.resolve_user(u);
            match self.shared.datadir.user_privileges(&name, &host)? {
                Some(p) => current.push((name, host, p)),
                None if grant => {
                    return Err(SqlError::new(
                        code::ER_PASSWORD_NO_MATCH,
                        "Can't find any matching row in the user table",
                    ));
                }
                None => {
                    return Err(SqlError::new(
                        code::ER_NONEXISTING_GRANT,
                        format!(
                            "There is no such grant defined for user '{name}' on host '{host}'"
                        ),
                    ));
                }
            }
        }
        for (name, host, (mut privs, mut option)) in current {
            if grant {
                for p in privileges {
                    if !privs.contains(p) {
                        privs.push(p);
                    }
                }
                option |= grant_option;
            } else {
                privs.retain(|p| !privileges.contains(p));
                option &= !grant_option;
            }
            self.shared
                .datadir
                .set_user_privileges(&name, &host, &privs, option)?;
        }
        Ok(Outcome::ok(0))
    }

    fn show_grants(&mut self, user: &UserRef) -> Result<Outcome, SqlError> {
        let (name, host) = self.resolve_user(user);
        let own = name == self.account.user && host == self.account.host;
        if !own && !self.account.super_priv {
            return Err(SqlError::db_access_denied(
                &self.account.user,
                &self.account.host,
                "mysql",
            ));
        }
        let Some((privs, option)) = self.shared.datadir.user_privileges(&name, &host)? else {
            return Err(SqlError::new(
                code::ER_NONEXISTING_GRANT,
                format!("There is no such grant defined for user '{name}' on host '{host}'"),
            ));
        };
        Ok(Outcome::Rows(ResultSet {
            columns: vec![ColDef::new(
                format!("Grants for {name}@{host}"),
                ColumnType::MYSQL_TYPE_VAR_STRING,
            )],
            rows: vec![vec![Cell::Text(grant_text(&name, &host, &privs, option))]],
        }))
    }

    fn resolve_user(&self, u: &UserRef) -> (String, String) {
        match u {
            UserRef::Named(u, h) => (u.clone(), h.clone()),
            UserRef::Current => (self.account.user.clone(), self.account.host.clone()),
        }
    }

    /// The stored authentication string of `password` for `plugin`.
    fn auth_string(
        &mut self,
        plugin: &str,
        password: Option<&NewPassword>,
    ) -> Result<String, SqlError> {
        match password {
            Some(NewPassword::Hash(h)) => {
                if plugin != "mysql_native_password" || !is_native_hash(h) {
                    return Err(SqlError::new(
                        code::ER_PASSWORD_FORMAT,
                        "The password hash doesn't have the expected format.",
                    ));
                }
                if !h.is_empty() {
                    self.check_hash_allowed()?;
                }
                Ok(h.to_ascii_uppercase())
            }
            Some(NewPassword::Plain(p)) => {
                if !p.is_empty() {
                    self.validate_new_password(p)?;
                }
                if plugin == "mysql_native_password" {
                    return Ok(native_hash(p));
                }
                let auth = self
                    .psess
                    .generate_auth_string(plugin, p.as_bytes())
                    .map_err(|e| crate::plugins::sql_error(&e))?;
                String::from_utf8(auth).map_err(|_| {
                    SqlError::internal(format!(
                        "plugin {plugin} made a non-UTF-8 authentication string"
                    ))
                })
            }
            None => self.auth_string(plugin, Some(&NewPassword::Plain(String::new()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Option<UserStatement>, SqlError> {
        parse(&super::super::rewrite::tokenize(s).expect("tokens"))
    }

    #[test]
    fn parses_alter_user_and_set_password() {
        assert_eq!(
            p("ALTER USER 'bob'@'localhost' IDENTIFIED BY 'pw'").ok(),
            Some(Some(UserStatement::AlterUser {
                if_exists: false,
                user: UserRef::Named("bob".into(), "localhost".into()),
                plugin: None,
                password: Some(NewPassword::Plain("pw".into())),
            }))
        );
        assert_eq!(
            p("ALTER USER IF EXISTS bob IDENTIFIED WITH auth_test_plugin").ok(),
            Some(Some(UserStatement::AlterUser {
                if_exists: true,
                user: UserRef::Named("bob".into(), "%".into()),
                plugin: Some("auth_test_plugin".into()),
                password: None,
            }))
        );
        assert_eq!(
            p("ALTER USER CURRENT_USER() IDENTIFIED BY PASSWORD '*0123'").ok(),
            Some(Some(UserStatement::AlterUser {
                if_exists: false,
                user: UserRef::Current,
                plugin: None,
                password: Some(NewPassword::Hash("*0123".into())),
            }))
        );
        assert_eq!(
            p("SET PASSWORD FOR 'a'@'%' = PASSWORD('x')").ok(),
            Some(Some(UserStatement::SetPassword {
                user: UserRef::Named("a".into(), "%".into()),
                password: NewPassword::Plain("x".into()),
            }))
        );
        let hash = native_hash("x");
        assert_eq!(
            p(&format!("SET PASSWORD = '{hash}'")).ok(),
            Some(Some(UserStatement::SetPassword {
                user: UserRef::Current,
                password: NewPassword::Hash(hash),
            }))
        );
        assert_eq!(
            p("SET PASSWORD = 'plain words'").ok(),
            Some(Some(UserStatement::SetPassword {
                user: UserRef::Current,
                password: NewPassword::Plain("plain words".into()),
            }))
        );
        assert_eq!(p("SET @x = 1").ok(), Some(None));
        assert_eq!(p("ALTER TABLE t ADD c INT").ok(), Some(None));
        assert_eq!(p("ALTER USER bob").map_err(|e| e.code).err(), Some(1235));
        assert_eq!(
            p("ALTER USER bob ACCOUNT LOCK").map_err(|e| e.code).err(),
            Some(1235)
        );
        assert!(p("SET PASSWORD FOR bob PASSWORD('x')").is_err());
        assert!(p("SET PASSWORD = PASSWORD('x') junk").is_err());
    }

    #[test]
    fn parses_grant_revoke_and_show_grants() {
        assert_eq!(
            p("GRANT SELECT, SHOW DATABASES ON *.* TO 'bob'@'%', carol WITH GRANT OPTION").ok(),
            Some(Some(UserStatement::Grant {
                privileges: vec!["SELECT", "SHOW DATABASES"],
                grant_option: true,
                users: vec![
                    UserRef::Named("bob".into(), "%".into()),
                    UserRef::Named("carol".into(), "%".into())
                ],
            }))
        );
        assert_eq!(
            p("REVOKE ALL PRIVILEGES, GRANT OPTION FROM bob").ok(),
            Some(Some(UserStatement::Revoke {
                privileges: GLOBAL_PRIVILEGES.to_vec(),
                grant_option: true,
                users: vec![UserRef::Named("bob".into(), "%".into())],
            }))
        );
        assert_eq!(
            p("SHOW GRANTS FOR CURRENT_USER()").ok(),
            Some(Some(UserStatement::ShowGrants(UserRef::Current)))
        );
        assert_eq!(
            p("SHOW GRANTS").ok(),
            Some(Some(UserStatement::ShowGrants(UserRef::Current)))
        );
        assert_eq!(
            p("GRANT SELECT ON shop.* TO bob").map_err(|e| e.code).err(),
            Some(1235)
        );
        assert_eq!(
            p("GRANT FLY ON *.* TO bob").map_err(|e| e.code).err(),
            Some(1064)
        );
        assert_eq!(
            p("REVOKE SELECT ON *.* TO bob").map_err(|e| e.code).err(),
            Some(1064)
        );
        assert_eq!(
            grant_text("bob", "%", &["SELECT", "PROCESS"], false),
            "GRANT SELECT, PROCESS ON *.* TO `bob`@`%`"
        );
        assert_eq!(
            grant_text("root", "localhost", &GLOBAL_PRIVILEGES, true),
            "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"
        );
        assert_eq!(
            grant_text("u", "h", &[], false),
            "GRANT USAGE ON *.* TO `u`@`h`"
        );
    }
}
