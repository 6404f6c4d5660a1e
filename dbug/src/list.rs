//! Keyword / function / process lists (SPEC section 4).

use std::sync::Arc;

use crate::glob::fnmatch;

/// Element flag: trailing `/` (subtree rule).
pub(crate) const SUBDIR: u32 = 1;
/// Element flag: included.
pub(crate) const INCLUDE: u32 = 2;
/// Element flag: excluded.
pub(crate) const EXCLUDE: u32 = 4;
/// `in_list` result: matched by default (no non-exclude element).
pub(crate) const MATCHED: u32 = 65536;
/// `in_list` result: not matched.
pub(crate) const NOT_MATCHED: u32 = 0;

/// One list element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    pub(crate) text: Box<str>,
    pub(crate) flags: u32,
    /// Derived: `text` has no glob special character, so a glob match is byte equality.
    pub(crate) literal: bool,
}

impl Link {
    fn new(text: &str, flags: u32) -> Link {
        Link {
            text: text.into(),
            flags,
            literal: !text
                .bytes()
                .any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\')),
        }
    }
}

/// A list; `None` is the C `NULL` (empty) list. Lists are shared copy-on-write between a
/// pushed record and its parent, and sharing is detected by pointer identity as in C.
pub(crate) type List = Option<Arc<Vec<Link>>>;

/// `is_shared` of the C code: both empty, or the very same allocation.
pub(crate) fn same_list(a: &List, b: &List) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => Arc::ptr_eq(x, y),
        _ => false,
    }
}

/// `ListCopy`: a copy in **reverse** order.
pub(crate) fn copy_reversed(l: &List) -> List {
    l.as_ref()
        .map(|v| Arc::new(v.iter().rev().cloned().collect()))
}

/// `ListFlags`: the union of all element flags.
pub(crate) fn list_flags(l: &List) -> u32 {
    l.as_ref()
        .map(|v| v.iter().fold(0, |f, e| f | e.flags))
        .unwrap_or(0)
}

/// `ListAddDel`: edit `list` with the comma separated `modifier`, `todo` = INCLUDE or EXCLUDE.
pub(crate) fn add_del(list: &mut List, modifier: &str, todo: u32) {
    let mut v: Vec<Link> = match list.take() {
        Some(arc) => Arc::try_unwrap(arc).unwrap_or_else(|a| (*a).clone()),
        None => Vec::new(),
    };
    for tok in modifier.split(',') {
        let (tok, subdir) = match tok.strip_suffix('/') {
            Some(t) => (t, SUBDIR),
            None => (tok, 0),
        };
        if tok.is_empty() {
            continue;
        }
        let tb = tok.as_bytes();
        // First element whose first len(tok) bytes equal tok (strncmp prefix test).
        let found = v.iter().position(|e| e.text.as_bytes().starts_with(tb));
        match found {
            Some(i) => {
                if v[i].flags & todo != 0 {
                    v[i].flags |= subdir;
                } else if todo == EXCLUDE {
                    v.remove(i);
                } else {
                    v[i].flags |= INCLUDE | subdir;
                }
            }
            None => v.push(Link::new(tok, todo | subdir)),
        }
    }
    *list = if v.is_empty() {
        None
    } else {
        Some(Arc::new(v))
    };
}

/// `InList`: glob (`exact == false`) or byte-equality matching of `name`.
pub(crate) fn in_list(l: &List, name: &str, exact: bool) -> u32 {
    let mut result = MATCHED;
    let Some(v) = l else {
        return result;
    };
    for e in v.iter() {
        let hit = if exact || e.literal {
            *e.text == *name
        } else {
            fnmatch(e.text.as_bytes(), name.as_bytes())
        };
        if hit {
            return e.flags;
        }
        if e.flags & EXCLUDE == 0 {
            result = NOT_MATCHED;
        }
        if e.flags & SUBDIR != 0 {
            result |= SUBDIR;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(l: &List) -> Vec<(String, u32)> {
        l.as_ref()
            .map(|v| v.iter().map(|e| (e.text.to_string(), e.flags)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn prefix_delete_and_order() {
        let mut l: List = None;
        add_del(&mut l, "info,error", INCLUDE);
        add_del(&mut l, "inf", EXCLUDE);
        assert_eq!(texts(&l), vec![("error".into(), INCLUDE)]);
        let mut l: List = None;
        add_del(&mut l, "info,inf", INCLUDE);
        assert_eq!(texts(&l).len(), 1);
        let mut l: List = None;
        add_del(&mut l, "inf,info", INCLUDE);
        assert_eq!(texts(&l).len(), 2);
    }

    #[test]
    fn include_exclude_both() {
        let mut l: List = None;
        add_del(&mut l, "info", EXCLUDE);
        add_del(&mut l, "info", INCLUDE);
        assert_eq!(texts(&l), vec![("info".into(), INCLUDE | EXCLUDE)]);
        assert_eq!(in_list(&l, "info", false), INCLUDE | EXCLUDE);
    }

    #[test]
    fn subdir_wiping() {
        let mut l: List = None;
        add_del(&mut l, "a/,c", INCLUDE);
        assert_eq!(in_list(&l, "b", false), NOT_MATCHED);
        let mut l: List = None;
        add_del(&mut l, "c,a/", INCLUDE);
        assert_eq!(in_list(&l, "b", false), NOT_MATCHED | SUBDIR);
        assert_eq!(in_list(&None, "x", false), MATCHED);
        let mut l: List = None;
        add_del(&mut l, "x", EXCLUDE);
        assert_eq!(in_list(&l, "y", false), MATCHED);
    }

    #[test]
    fn literal_elements_match_like_fnmatch() {
        let names = ["info", "inf", "info2", "", "i*", "[x", "a\\b", "ab", "x"];
        for pat in [
            "info", "inf*", "i?fo", "[ix]nfo", "a\\b", "[x", "x", "info\\",
        ] {
            let mut l: List = None;
            add_del(&mut l, pat, INCLUDE);
            let lit = l.as_ref().map(|v| v[0].literal);
            assert_eq!(lit, Some(!pat.contains(['*', '?', '[', '\\'])), "{pat}");
            for n in names {
                let want = if fnmatch(pat.as_bytes(), n.as_bytes()) {
                    INCLUDE
                } else {
                    NOT_MATCHED
                };
                assert_eq!(in_list(&l, n, false), want, "{pat} vs {n}");
            }
        }
    }
}
