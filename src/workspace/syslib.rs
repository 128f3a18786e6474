//! `-sys` crates that link a library of the build machine (OpenSSL, libpq, SQLite…):
//! a cross build finds no copy of it for the target, and no backend brings one (zig
//! ships a libc, not OpenSSL). Each is named with the feature that builds the library
//! into the binary, or the pure-Rust crate that replaces it.

use serde::Serialize;

/// A system library a package of the graph links, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SystemLib {
    /// The `-sys` package.
    pub package: String,
    /// The library, as people name it (`OpenSSL`).
    pub library: String,
    /// The feature that bundles it, or the pure-Rust alternative.
    pub fix: String,
}

impl SystemLib {
    /// What it means for `targets` (named as the user wrote them), and the fix.
    pub fn lacking(&self, targets: &[String]) -> String {
        let names = targets
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let (verb, them) = if targets.len() == 1 {
            ("links", "it")
        } else {
            ("link", "them")
        };
        format!(
            "{names} {verb} the system's {} through `{}`, which this machine lacks for {them} and no backend brings (hint: {})",
            self.library, self.package, self.fix
        )
    }

    /// Whether the user pointed the build script at a copy for `triple` (`OPENSSL_DIR`,
    /// `AARCH64_UNKNOWN_LINUX_MUSL_OPENSSL_DIR`, …), so it may well be there.
    pub fn configured(&self, triple: &str) -> bool {
        let Some(k) = known(&self.package) else {
            return false;
        };
        let prefix = triple.replace(['-', '.'], "_").to_uppercase();
        k.env.iter().any(|v| {
            std::env::var_os(v).is_some() || std::env::var_os(format!("{prefix}_{v}")).is_some()
        })
    }
}

/// A `-sys` crate this module knows.
struct Known {
    package: &'static str,
    library: &'static str,
    /// Its `-l` names, as a linker reports them missing (`cannot find -lssl`).
    libs: &'static [&'static str],
    /// Features that build the library from source into the binary.
    bundled_by: &'static [&'static str],
    /// Its build script builds its own copy when the system has none (so only a failure
    /// names it, never the plan).
    builds_own_copy: bool,
    /// Variables that point its build script at a copy of the library.
    env: &'static [&'static str],
    fix: &'static str,
}

const KNOWN: &[Known] = &[
    Known {
        package: "openssl-sys",
        library: "OpenSSL",
        libs: &["ssl", "crypto"],
        bundled_by: &["vendored"],
        builds_own_copy: false,
        env: &["OPENSSL_DIR", "OPENSSL_LIB_DIR"],
        fix: "enable feature `vendored` of `openssl-sys`, which builds OpenSSL into the binary (`--features openssl/vendored` when you depend on `openssl`), or use rustls instead of OpenSSL (e.g. `reqwest` with `default-features = false` and feature `rustls-tls`)",
    },
    Known {
        package: "pq-sys",
        library: "libpq",
        libs: &["pq"],
        bundled_by: &["bundled"],
        builds_own_copy: false,
        env: &["PQ_LIB_DIR"],
        fix: "enable feature `bundled` of `pq-sys` (pq-sys 0.6 or later: `--features pq-sys/bundled`), or use a pure-Rust client (`tokio-postgres`, `sqlx` with `postgres`)",
    },
    Known {
        package: "libsqlite3-sys",
        library: "SQLite",
        libs: &["sqlite3"],
        bundled_by: &[
            "bundled",
            "bundled-sqlcipher",
            "bundled-sqlcipher-vendored-openssl",
        ],
        builds_own_copy: false,
        env: &["SQLITE3_LIB_DIR"],
        fix: "enable feature `bundled` of `libsqlite3-sys` (`--features rusqlite/bundled` when you depend on `rusqlite`)",
    },
    Known {
        package: "libdbus-sys",
        library: "libdbus",
        libs: &["dbus-1"],
        bundled_by: &["vendored"],
        builds_own_copy: false,
        env: &[],
        fix: "enable feature `vendored` of `libdbus-sys` (`--features dbus/vendored`), or use `zbus`, a pure-Rust D-Bus",
    },
    Known {
        package: "libgit2-sys",
        library: "libgit2",
        libs: &["git2"],
        bundled_by: &["vendored"],
        builds_own_copy: true,
        env: &[],
        fix: "enable feature `vendored` of `libgit2-sys` (`--features git2/vendored-libgit2`), or use `gix`, a pure-Rust git",
    },
    Known {
        package: "libz-sys",
        library: "zlib",
        libs: &["z"],
        bundled_by: &["static", "zlib-ng"],
        builds_own_copy: true,
        env: &[],
        fix: "enable feature `static` of `libz-sys` (`--features libz-sys/static`), or `flate2`'s pure-Rust backend (`default-features = false`, feature `rust_backend`)",
    },
    Known {
        package: "curl-sys",
        library: "libcurl",
        libs: &["curl"],
        bundled_by: &["static-curl"],
        builds_own_copy: true,
        env: &[],
        fix: "enable feature `static-curl` of `curl-sys` (`--features curl/static-curl`), or use a pure-Rust HTTP client (`ureq`, or `reqwest` with `rustls-tls`)",
    },
];

fn known(package: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| k.package == package)
}

fn lib_of(k: &Known) -> SystemLib {
    SystemLib {
        package: k.package.to_owned(),
        library: k.library.to_owned(),
        fix: k.fix.to_owned(),
    }
}

/// The system library `package` links with `features` enabled: none when a feature
/// bundles it, or its build script builds its own copy when the system lacks one.
pub(crate) fn unbundled(package: &str, features: &[String]) -> Option<SystemLib> {
    let k = known(package)?;
    let bundled = features.iter().any(|f| k.bundled_by.contains(&f.as_str()));
    (!bundled && !k.builds_own_copy).then(|| lib_of(k))
}

/// The system library of `package`, when it is a known `-sys` crate (for a failure:
/// whatever its features, its build script failed).
pub(crate) fn of_package(package: &str) -> Option<SystemLib> {
    known(package).map(lib_of)
}

/// The known `-sys` crate that links `-l<lib>` (`ssl` → `openssl-sys`).
pub(crate) fn of_link_name(lib: &str) -> Option<SystemLib> {
    KNOWN.iter().find(|k| k.libs.contains(&lib)).map(lib_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_sys_crate_without_its_bundling_feature_is_named_with_the_feature() {
        let ssl = unbundled("openssl-sys", &f(&["default"])).unwrap();
        assert_eq!(ssl.library, "OpenSSL");
        assert!(ssl.fix.contains("`vendored`"), "{}", ssl.fix);
        assert!(ssl.fix.contains("rustls"), "{}", ssl.fix);
        assert!(unbundled("openssl-sys", &f(&["vendored"])).is_none());
        assert!(unbundled("pq-sys", &f(&[])).is_some());
        assert!(unbundled("pq-sys", &f(&["bundled"])).is_none());
        assert!(unbundled("libsqlite3-sys", &f(&["bundled"])).is_none());
        // Their build scripts build their own copy when the system has none.
        assert!(unbundled("libgit2-sys", &f(&[])).is_none());
        assert!(unbundled("libz-sys", &f(&[])).is_none());
        assert!(unbundled("cc", &f(&[])).is_none());
        // …but a failure of theirs is still named, with the fix.
        assert!(of_package("libgit2-sys").unwrap().fix.contains("gix"));
        assert!(
            of_package("libz-sys")
                .unwrap()
                .fix
                .contains("libz-sys/static")
        );
        assert!(of_package("curl-sys").unwrap().fix.contains("static-curl"));
        assert_eq!(of_link_name("crypto").unwrap().package, "openssl-sys");
        assert!(of_link_name("gcc_s").is_none());
    }
}
