fn main() {
    let version = env!("CARGO_PKG_VERSION");
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("configured {version}");
        return;
    }
    println!("configured {version} {}", std::env::consts::ARCH);
}
