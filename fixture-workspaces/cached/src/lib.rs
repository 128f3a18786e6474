//! A library crate: a cacheable compilation for each target.
extern "C" {
    fn cdep_answer() -> i32;
    fn cached_direct() -> i32;
}

/// The answers from C.
pub fn answers() -> (i32, i32) {
    unsafe { (cdep_answer(), cached_direct()) }
}

/// `line` split as a shell would.
pub fn words(line: &str) -> Vec<String> {
    shlex::split(line).unwrap_or_default()
}
