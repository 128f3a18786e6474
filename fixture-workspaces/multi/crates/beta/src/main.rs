fn main() {
    let version = env!("CARGO_PKG_VERSION");
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("beta-server {version}");
        return;
    }
    println!("beta-server {version} {}", std::env::consts::ARCH);
}
