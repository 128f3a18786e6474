//! [`Name`]: one plain word of a platform (`linux`, `amd64`, `v7`), held inline so
//! that platforms stay `Copy` whatever rustc or a file names.

use std::cmp::Ordering;
use std::fmt;
use std::ops::Deref;

/// The longest name held (rustc's longest `target_os` or `target_arch` is 12 bytes).
const CAP: usize = 23;

/// A platform word: 1 to 23 bytes of lowercase ASCII letters, digits and `_`, so it
/// is always a plain path component and a valid OCI `os`/`architecture`/`variant`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Name {
    len: u8,
    bytes: [u8; CAP],
}

impl Name {
    /// `s` as a name, or None when it is empty, too long or holds another character.
    pub fn new(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= CAP
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return None;
        }
        let mut bytes = [0; CAP];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Some(Self {
            len: u8::try_from(s.len()).expect("at most CAP bytes"),
            bytes,
        })
    }

    /// A name this crate spells out; panics on a typo, which tests catch.
    pub fn of(s: &str) -> Self {
        Self::new(s).unwrap_or_else(|| panic!("`{s}` is not a plain name"))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).expect("ASCII by construction")
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_lowercase_words_are_names() {
        for good in ["linux", "amd64", "v7", "solid_asp3", "a", &"x".repeat(CAP)] {
            assert_eq!(Name::new(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "Linux",
            "x86-64",
            "a/b",
            "..",
            " ",
            "é",
            &"x".repeat(CAP + 1),
        ] {
            assert!(Name::new(bad).is_none(), "{bad:?}");
        }
        assert!(Name::of("arm") < Name::of("arm64"));
        assert!(Name::of("b") > Name::of("arm64"));
        assert_eq!(Name::of("arm"), "arm");
    }
}
