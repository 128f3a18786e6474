//! How a run ends: one exit status per kind of outcome, chosen from typed errors at the
//! top (`main`), so that scripts and CI can tell a failed build from a failed check.

use std::fmt;
use std::process::ExitCode;

/// How a run ended: the process's exit status, one per kind of outcome, documented in
/// `cargo multiarch --help` and docs/commands/README.md ("Exit codes"). Like
/// `NextestExitCode`, each kind keeps its number for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done.
    Success,
    /// Any other failure: a missing tool, a bad configuration, an I/O error.
    Failure,
    /// The command line was not understood (clap's own status).
    Usage,
    /// A target did not build (cargo or a linker failed).
    BuildFailed,
    /// `verify` (or `merge`'s, or `sign`'s) found problems in an out dir.
    VerifyFailed,
    /// Another run holds the out dir's lock and `--no-wait` was given.
    Locked,
    /// A bug in cargo-multiarch: it panicked (Rust's panic status).
    Internal,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::BuildFailed => 3,
            Exit::VerifyFailed => 4,
            Exit::Locked => 5,
            Exit::Internal => 101,
        }
    }

    /// The exit of a run that failed with `err`: the kind of the first typed error in
    /// its chain ([`Failed`], [`crate::outdir::Locked`]), else [`Exit::Failure`].
    pub fn of(err: &anyhow::Error) -> Self {
        err.chain()
            .find_map(|e| {
                if let Some(f) = e.downcast_ref::<Failed>() {
                    Some(f.exit)
                } else if e.is::<crate::outdir::Locked>() {
                    Some(Exit::Locked)
                } else {
                    None
                }
            })
            .unwrap_or(Exit::Failure)
    }

    /// The lines `--help` shows (the same table as docs/commands/README.md).
    pub const HELP: &str = "\
Exit status:
  0    success
  1    any other failure (a missing tool, a bad configuration, an I/O error)
  2    usage: the command line was not understood
  3    build failed: a target did not build
  4    verify found problems in an out dir
  5    out dir locked by another run (with --no-wait)
  101  internal error (a bug: please report it)
  129  stopped by SIGHUP, after stopping every process it started
  130  stopped by SIGINT (Ctrl-C), after stopping every process it started
  143  stopped by SIGTERM, after stopping every process it started";
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// A failure with its own exit status: its message is the error's.
#[derive(Debug)]
pub struct Failed {
    pub exit: Exit,
    pub message: String,
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failed {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_errors_anywhere_in_the_chain_choose_the_exit() {
        let locked = anyhow::Error::new(crate::outdir::Locked {
            out_dir: "out".into(),
        })
        .context("cannot package");
        assert_eq!(Exit::of(&locked), Exit::Locked);
        let failed = anyhow::Error::new(Failed {
            exit: Exit::VerifyFailed,
            message: "2 problems".into(),
        })
        .context("merge");
        assert_eq!(Exit::of(&failed), Exit::VerifyFailed);
        assert_eq!(Exit::of(&anyhow::anyhow!("plain")), Exit::Failure);
    }

    #[test]
    fn codes_are_distinct_and_documented() {
        let all = [
            Exit::Success,
            Exit::Failure,
            Exit::Usage,
            Exit::BuildFailed,
            Exit::VerifyFailed,
            Exit::Locked,
            Exit::Internal,
        ];
        let mut codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for e in all {
            assert!(
                Exit::HELP.contains(&format!("  {:<4} ", e.code())),
                "{e:?} is in --help"
            );
        }
        // A stop on a signal exits 128 + its number (`process::group`).
        for (code, signal) in [(129, "SIGHUP"), (130, "SIGINT"), (143, "SIGTERM")] {
            assert!(
                Exit::HELP.contains(&format!("  {code}  stopped by {signal}")),
                "{code} is in --help"
            );
        }
    }
}
