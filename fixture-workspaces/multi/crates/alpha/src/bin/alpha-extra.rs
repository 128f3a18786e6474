fn main() {
    let version = env!("CARGO_PKG_VERSION");
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("alpha-extra {version}");
        return;
    }
    println!("alpha-extra {version} {}", std::env::consts::ARCH);
}
