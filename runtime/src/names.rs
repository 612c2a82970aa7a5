//! Stage names read back from journals and links, interned: a decoded event carries its stage's name, and a batch
//! of 512 events would otherwise allocate (and free) the same name 512 times. Each distinct name is allocated once
//! for the life of the process (at most [`MAX_NAMES`] of them; past that, names are allocated per event as before),
//! and the last one this thread used is compared first, so a batch of one stage's events costs a comparison each.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

/// Distinct names kept for the life of the process: stage names are few; a stream of ever-new names stops being
/// interned here instead of growing memory.
pub(crate) const MAX_NAMES: usize = 4096;

static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

thread_local! {
    static LAST: Cell<&'static str> = const { Cell::new("") };
}

/// `name` as a `Cow` borrowing the interned copy (allocating it the first time).
pub(crate) fn intern(name: &str) -> Cow<'static, str> {
    let last = LAST.with(Cell::get);
    if last == name {
        return Cow::Borrowed(last);
    }
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    let names = names.get_or_insert_with(HashSet::new);
    let kept = match names.get(name) {
        Some(kept) => *kept,
        None if names.len() < MAX_NAMES => {
            let kept: &'static str = Box::leak(name.to_owned().into_boxed_str());
            names.insert(kept);
            kept
        }
        None => return Cow::Owned(name.to_owned()),
    };
    LAST.with(|last| last.set(kept));
    Cow::Borrowed(kept)
}

/// Deserializes a stage name through [`intern`].
pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Cow<'static, str>, D::Error> {
    struct Name;
    impl serde::de::Visitor<'_> for Name {
        type Value = Cow<'static, str>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a stage name")
        }
        fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Self::Value, E> {
            Ok(intern(name))
        }
    }
    deserializer.deserialize_str(Name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_name_is_one_allocation_and_compares_equal() {
        let (a, b) = (intern("parse"), intern(&String::from("parse")));
        assert_eq!(a, "parse");
        match (a, b) {
            (Cow::Borrowed(a), Cow::Borrowed(b)) => assert!(std::ptr::eq(a, b)),
            other => panic!("not interned: {other:?}"),
        }
        assert_eq!(intern("read"), "read");
        assert_eq!(intern("parse"), "parse");
    }
}
