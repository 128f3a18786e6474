extern "C" {
    fn cdep_answer() -> i32;
}

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("cdep {version}");
        return;
    }
    println!("cdep {version} {}", std::env::consts::ARCH);
    println!("c says {}", unsafe { cdep_answer() });
}
