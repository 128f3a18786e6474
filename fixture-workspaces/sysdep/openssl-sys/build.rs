fn main() {
    let target = std::env::var("TARGET").unwrap();
    println!("cargo:rerun-if-env-changed=OPENSSL_DIR");
    if std::env::var_os("CARGO_FEATURE_VENDORED").is_some() {
        return;
    }
    eprintln!(
        "Could not find directory of OpenSSL installation, and this `-sys` crate cannot\nproceed without this knowledge. If OpenSSL is installed and this crate had\ntrouble finding it,  you can set the `OPENSSL_DIR` environment variable for the\ncompilation process.\n\n$TARGET = {target}\nopenssl-sys = 0.9.109\n"
    );
    std::process::exit(101);
}
