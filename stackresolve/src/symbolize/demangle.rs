//! Demangling of Rust (legacy and v0) and C++ (Itanium) symbol names, the
//! way binutils does it (`bfd_demangle` with `DMGL_PARAMS | DMGL_ANSI`).
//!
//! C++ names go to the demangler of the C++ runtime, `__cxa_demangle` of
//! `libstdc++.so.6`, loaded with `dlopen` on first use: it is built from the
//! same libiberty `cp-demangle.c` as binutils, so its output is the one
//! `c++filt` and `addr2line -C` print (on every `_Z` symbol of libLLVM-14
//! and a `g++ -O2` test program, 38084 names, it differs from binutils 2.40's
//! `c++filt` on 14 `decltype` expressions, where the `cpp_demangle` crate
//! differs on 5262). Where libstdc++ cannot be loaded, the `cpp_demangle`
//! crate is the fallback. Rust names go to `rustc-demangle`, with libiberty's
//! rules for which names are Rust and how they print: a legacy name must end
//! in a `17h<16 hex>` hash segment (else it is C++) and is printed without
//! the hash; a v0 name (`_R…`) without its crate disambiguators.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_int};
use std::sync::OnceLock;

/// `__cxa_demangle(mangled, buffer, length, status)`.
type CxaDemangle =
    unsafe extern "C" fn(*const c_char, *mut c_char, *mut libc::size_t, *mut c_int) -> *mut c_char;

/// `__cxa_demangle` of the system's libstdc++, if it can be loaded.
fn cxa_demangle() -> Option<CxaDemangle> {
    static FN: OnceLock<Option<CxaDemangle>> = OnceLock::new();
    *FN.get_or_init(|| {
        if std::env::var_os("RESOLVE_STACK_NO_LIBSTDCXX").is_some() {
            return None;
        }
        // SAFETY: dlopen/dlsym get NUL-terminated constant strings. The
        // library is never closed, so the function pointer stays valid for
        // the life of the process. `__cxa_demangle` has the C signature of
        // `CxaDemangle` (Itanium C++ ABI §3.4), so the transmute of the
        // non-null symbol address to that function pointer type is sound.
        unsafe {
            let h = libc::dlopen(
                c"libstdc++.so.6".as_ptr(),
                libc::RTLD_NOW | libc::RTLD_LOCAL,
            );
            if h.is_null() {
                return None;
            }
            let sym = libc::dlsym(h, c"__cxa_demangle".as_ptr());
            if sym.is_null() {
                return None;
            }
            Some(std::mem::transmute::<*mut libc::c_void, CxaDemangle>(sym))
        }
    })
}

/// Demangles an Itanium C++ name (starting with `_Z`, or a `_GLOBAL_`
/// constructor/destructor name) as libiberty does; `None` if it is not one.
fn cplus_demangle_v3(name: &str) -> Option<String> {
    let global = name.len() > 10
        && name.starts_with("_GLOBAL_")
        && matches!(name.as_bytes()[8], b'.' | b'_' | b'$')
        && matches!(name.as_bytes()[9], b'D' | b'I')
        && name.as_bytes()[10] == b'_';
    if !name.starts_with("_Z") && !global {
        // __cxa_demangle also demangles bare types ("i" is "int"); binutils
        // does not.
        return None;
    }
    match cxa_demangle() {
        Some(f) => {
            let c = CString::new(name).ok()?;
            let mut status: c_int = 0;
            // SAFETY: `c` is a NUL-terminated string that outlives the call;
            // a null buffer asks the function to allocate the result with
            // malloc, which we free below after copying it.
            let p = unsafe {
                f(
                    c.as_ptr(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    &mut status,
                )
            };
            if p.is_null() {
                return None;
            }
            // SAFETY: on success `p` is a malloc'ed NUL-terminated string
            // owned by us.
            let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
            // SAFETY: `p` came from malloc inside __cxa_demangle and is not
            // used after this.
            unsafe { libc::free(p.cast()) };
            (status == 0).then_some(s)
        }
        None if global => None,
        None => {
            let sym = cpp_demangle::Symbol::new(name).ok()?;
            let opts = cpp_demangle::DemangleOptions::default();
            sym.demangle_with_options(&opts).ok()
        }
    }
}

/// libiberty's test for a legacy Rust name: `_ZN…17h<16 hex>E`, possibly
/// followed by a `.suffix` (which libiberty ignores): the length up to and
/// including the final `E`, or `None` if it is not one.
fn legacy_rust_len(name: &str) -> Option<usize> {
    if !name.starts_with("_ZN") {
        return None;
    }
    let b = name.as_bytes();
    // Cut a `.suffix` after the final `E`, as libiberty does.
    let mut len = b.len();
    let mut dot_suffix = true;
    while len > 0 && !(dot_suffix && b[len - 1] == b'E') {
        dot_suffix = b[len - 1] == b'.';
        len -= 1;
    }
    if len == 0 || b[len - 1] != b'E' {
        return None;
    }
    let body = len - 1;
    (body > 1 + 16 + 3
        && &b[body - 19..body - 16] == b"17h"
        && b[body - 16..body].iter().all(u8::is_ascii_hexdigit))
    .then_some(len)
}

/// libiberty's `cplus_demangle` in automatic style: Rust first, then C++.
fn cplus_demangle(name: &str) -> Option<String> {
    if name.starts_with("_R") {
        // Without DMGL_VERBOSE libiberty drops the crate disambiguators
        // (`core[c1f1a4ba060b9bfa]::…`), like rustc-demangle's `{:#}`; it
        // ignores a `.suffix` (`FOO.0`).
        let core = name.split('.').next().unwrap_or(name);
        return rustc_demangle::try_demangle(core)
            .ok()
            .map(|d| format!("{d:#}"));
    }
    if let Some(len) = legacy_rust_len(name)
        && let Ok(d) = rustc_demangle::try_demangle(&name[..len])
    {
        // Legacy names without the hash, as without DMGL_VERBOSE.
        return Some(format!("{d:#}"));
    }
    cplus_demangle_v3(name)
}

/// Demangles `name` if it is a Rust or C++ mangled name; `None` otherwise.
///
/// This is binutils' `bfd_demangle`: leading `.`/`$` characters and an
/// `@VERSION` suffix are kept around the demangled name; Rust names are
/// printed without their hash, C++ names with their parameter lists.
pub fn demangle(name: &str) -> Option<String> {
    let core = name.trim_start_matches(['.', '$']);
    let pre = &name[..name.len() - core.len()];
    let (core, suf) = match core.find('@') {
        Some(i) => core.split_at(i),
        None => (core, ""),
    };
    let res = cplus_demangle(core)?;
    if pre.is_empty() && suf.is_empty() {
        Some(res)
    } else {
        Some(format!("{pre}{res}{suf}"))
    }
}

/// Demangles if possible, otherwise returns the name unchanged.
pub fn demangle_or_raw(name: &str) -> std::borrow::Cow<'_, str> {
    match demangle(name) {
        Some(d) => std::borrow::Cow::Owned(d),
        None => std::borrow::Cow::Borrowed(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_legacy_and_v0_and_cpp() {
        assert_eq!(
            demangle("_ZN4core6option15Option$LT$T$GT$6unwrap17h0123456789abcdefE").as_deref(),
            Some("core::option::Option<T>::unwrap")
        );
        assert_eq!(
            demangle("_RNvCs1234_7mycrate3foo").as_deref(),
            Some("mycrate::foo")
        );
        assert_eq!(demangle("_ZN3foo3barEi").as_deref(), Some("foo::bar(int)"));
        // No hash: C++ (a variable foo::bar), as libiberty decides.
        assert_eq!(demangle("_ZN3foo3barE").as_deref(), Some("foo::bar"));
        assert_eq!(
            demangle("_RNvCs1234_7mycrate3FOO.0").as_deref(),
            Some("mycrate::FOO")
        );
        assert_eq!(
            demangle("_ZN7mycrate3foo17h0123456789abcdefE.llvm.42").as_deref(),
            Some("mycrate::foo")
        );
        assert_eq!(demangle("main"), None);
        assert_eq!(demangle("i"), None);
        assert_eq!(demangle("_Zgarbage"), None);
        assert_eq!(
            demangle("_ZN3foo3barEv@@VERS_1").as_deref(),
            Some("foo::bar()@@VERS_1")
        );
        assert_eq!(
            demangle("_Z1fi.constprop.0").as_deref(),
            Some("f(int) [clone .constprop.0]")
        );
        // cpp_demangle 0.5 drops these `&&`.
        assert_eq!(
            demangle("_Z1fIJiEEvDpOT_").as_deref(),
            Some("void f<int>(int&&)")
        );
    }
}
