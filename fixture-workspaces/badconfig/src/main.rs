fn main() {
    let version = env!("CARGO_PKG_VERSION");
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("badconfig {version}");
        return;
    }
    println!("badconfig {version} {}", std::env::consts::ARCH);
}
