fn main() {
    let version = env!("CARGO_PKG_VERSION");
    println!("cached {version} {}", std::env::consts::ARCH);
    println!("c says {:?}", cached::answers());
    println!("{:?}", cached::words("a 'b c'"));
}
