//! `auth_test`: an authentication plugin and a password validation plugin, for
//! testing `CREATE USER … IDENTIFIED WITH` and password policies.
//!
//! * `auth_test_plugin` (like MySQL's test plugin of that name): the client sends
//!   the password in clear text (`mysql_clear_password`; the `mariadb` client needs
//!   `--enable-cleartext-plugin` / `--plugin-dir` as usual) and the stored
//!   authentication string is the password itself. For tests only.
//! * `validate_password_simple`: refuses passwords shorter than
//!   `validate_password_simple_length` (default 8) and passwords equal to the
//!   current user's name; strength is 10 points per character up to 100.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicI64, Ordering};

use minnow_plugin::abi::MINNOW_VALUE_INT;
use minnow_plugin::{
    AuthPlugin, AuthRequest, Host, PasswordValidationPlugin, Plugin, Value, status_var, sysvar_int,
};

/// The clear-text authentication plugin.
pub struct AuthTest {
    accepted: AtomicI64,
    refused: AtomicI64,
}

impl Plugin for AuthTest {
    const NAME: &'static std::ffi::CStr = c"auth_test_plugin";
    const DESCRIPTION: &'static std::ffi::CStr = c"Clear-text password authentication (tests only)";
    const STATUS_VARS: &'static [minnow_plugin::abi::StatusVarDecl] = &[
        status_var(c"accepted", MINNOW_VALUE_INT),
        status_var(c"refused", MINNOW_VALUE_INT),
    ];

    fn init(_host: Host) -> Result<Self, String> {
        Ok(AuthTest {
            accepted: AtomicI64::new(0),
            refused: AtomicI64::new(0),
        })
    }

    fn status(&self, index: usize) -> Value {
        match index {
            0 => Value::Int(self.accepted.load(Ordering::Relaxed)),
            1 => Value::Int(self.refused.load(Ordering::Relaxed)),
            _ => Value::Null,
        }
    }
}

/// The response of `mysql_clear_password` is the password followed by a NUL.
fn clear_text(response: &[u8]) -> &[u8] {
    response.strip_suffix(&[0]).unwrap_or(response)
}

impl AuthPlugin for AuthTest {
    const CLIENT_PLUGIN: &'static std::ffi::CStr = c"mysql_clear_password";

    fn authenticate(&self, request: &AuthRequest<'_>) -> bool {
        let ok = !request.user.is_empty() && clear_text(request.response) == request.auth_string;
        let counter = if ok { &self.accepted } else { &self.refused };
        counter.fetch_add(1, Ordering::Relaxed);
        ok
    }

    fn generate_auth_string(&self, password: &[u8]) -> Result<Vec<u8>, String> {
        Ok(password.to_vec())
    }
}

/// The password policy plugin.
pub struct ValidatePasswordSimple {
    host: Host,
    length: AtomicI64,
}

impl Plugin for ValidatePasswordSimple {
    const NAME: &'static std::ffi::CStr = c"validate_password_simple";
    const DESCRIPTION: &'static std::ffi::CStr = c"Minimum length, not the user name";
    const SYSTEM_VARS: &'static [minnow_plugin::abi::SysVarDecl] = &[sysvar_int(
        c"length",
        c"Minimum password length",
        8,
        0,
        1000,
    )];

    fn init(host: Host) -> Result<Self, String> {
        let length = host.sysvar("length").and_then(|v| v.as_int()).unwrap_or(8);
        Ok(ValidatePasswordSimple {
            host,
            length: AtomicI64::new(length),
        })
    }

    fn update_sysvar(&self, _index: usize, value: &Value) {
        if let Some(n) = value.as_int() {
            self.length.store(n, Ordering::Relaxed);
        }
    }
}

impl PasswordValidationPlugin for ValidatePasswordSimple {
    fn validate_password(&self, password: &[u8]) -> Result<(), String> {
        if (password.len() as i64) < self.length.load(Ordering::Relaxed) {
            return Err("too short".into());
        }
        if self
            .host
            .user()
            .is_some_and(|u| !u.is_empty() && u.as_bytes() == password)
        {
            return Err("same as the user name".into());
        }
        Ok(())
    }

    fn strength(&self, password: &[u8]) -> u32 {
        (password.len().min(10) * 10) as u32
    }
}

minnow_plugin::declare_plugins!(authentication AuthTest, password_validation ValidatePasswordSimple);
