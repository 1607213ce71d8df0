//! Evidence names an errno or ICMP message by a `&'static str` (`ECONNREFUSED`); a report read
//! back (`merge`) gets its names from here. Distinct names are kept once for the life of the
//! process, at most `MAX_NAMES` of them of at most `MAX_LEN` bytes: a hostile report cannot
//! grow this past a few kilobytes, and a name past those limits is dropped.

use std::collections::BTreeSet;
use std::sync::Mutex;

use serde::{Deserialize, Deserializer};

/// A `&'static str`, named so that serde's derive does not tie a whole `Evidence` to
/// `'static` input: only these fields are `'static`, and `interned` makes them so.
pub type Name = &'static str;

const MAX_NAMES: usize = 256;
const MAX_LEN: usize = 96;

static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// The `&'static` copy of `name`, made once; `None` past the limits.
pub fn intern(name: &str) -> Option<&'static str> {
    if name.len() > MAX_LEN {
        return None;
    }
    let mut names = NAMES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(known) = names.get(name) {
        return Some(known);
    }
    if names.len() >= MAX_NAMES {
        return None;
    }
    let kept: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(kept);
    Some(kept)
}

pub fn interned<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'static str>, D::Error> {
    let name: Option<String> = Option::deserialize(d)?;
    Ok(name.and_then(|n| intern(&n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_once_and_bounded() {
        let a = intern("ECONNREFUSED").unwrap();
        let b = intern("ECONNREFUSED").unwrap();
        assert!(std::ptr::eq(a, b));
        assert_eq!(intern(&"x".repeat(MAX_LEN + 1)), None);
        for n in 0..MAX_NAMES * 2 {
            let _ = intern(&format!("NAME{n}"));
        }
        assert!(NAMES.lock().unwrap().len() <= MAX_NAMES);
        assert_eq!(intern("a name never seen before, past the limit"), None);
    }
}
