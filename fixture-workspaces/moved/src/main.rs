// A Rust compile error (E0382) on every target: no backend can fix it.
fn main() {
    let s = String::from("moved");
    let t = s;
    println!("{s} {t}");
}
