fn main() {
    let version = env!("CARGO_PKG_VERSION");
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("hello {version}");
        return;
    }
    println!("hello {version} {}", std::env::consts::ARCH);
}
