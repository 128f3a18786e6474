#[cfg(target_arch = "aarch64")]
compile_error!("onlyamd does not support aarch64");

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("onlyamd {version}");
        return;
    }
    println!("onlyamd {version} {}", std::env::consts::ARCH);
}
