//! Account statements the server runs itself: `ALTER USER … IDENTIFIED …`,
//! `SET PASSWORD [FOR u] = …`, and the password checks `CREATE USER` shares
//! with them. Every new clear-text password goes through the installed password
//! validation plugins first; a refusal is error 1819, as for `CREATE USER`.

use minnow_plugin_host::{PluginState, PluginType};
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::Outcome;
use crate::datadir::native_hash;
use crate::error::{SqlError, code};
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
        c.expect("IDENTIFIED")?;
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
    Ok(None)
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
        }
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
        assert!(p("ALTER USER bob").is_err());
        assert!(p("SET PASSWORD FOR bob PASSWORD('x')").is_err());
        assert!(p("SET PASSWORD = PASSWORD('x') junk").is_err());
    }
}
