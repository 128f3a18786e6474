fn main() {
    let version = env!("CARGO_PKG_VERSION");
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("sbomapp {version}");
        return;
    }
    cfg_if::cfg_if! {
        if #[cfg(target_env = "musl")] {
            let libc = muslonly::NAME;
        } else {
            let libc = "other";
        }
    }
    println!("sbomapp {version} {libc} {}", native::answer() + derive::zero!());
}
