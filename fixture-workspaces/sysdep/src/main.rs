fn main() {
    println!("sysdep {}", openssl_sys::VERSION);
}
