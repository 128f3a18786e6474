fn main() {
    println!("cargo:rerun-if-changed=csrc/answer.c");
    cc::Build::new().file("csrc/answer.c").compile("answer");
}
