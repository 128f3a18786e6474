fn main() {
    let version = env!("CARGO_PKG_VERSION");
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("alpha {version}");
        return;
    }
    println!("alpha {version} {}", std::env::consts::ARCH);
    println!("{}", common::greeting());
}
