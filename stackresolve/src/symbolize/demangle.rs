//! Demangling of Rust (legacy and v0) and C++ (Itanium) symbol names.

/// Demangles `name` if it is a Rust or C++ mangled name; `None` otherwise.
///
/// Rust names are printed without their hash (as binutils `-C` does), C++
/// names with their parameter lists.
pub fn demangle(name: &str) -> Option<String> {
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        return Some(format!("{d:#}"));
    }
    if name.starts_with("_Z") {
        let sym = cpp_demangle::Symbol::new(name).ok()?;
        let opts = cpp_demangle::DemangleOptions::default();
        return sym.demangle_with_options(&opts).ok();
    }
    None
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
        assert_eq!(demangle("main"), None);
        assert_eq!(demangle("_Zgarbage"), None);
    }
}
