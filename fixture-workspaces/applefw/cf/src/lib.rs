#[link(name = "CoreFoundation", kind = "framework")]
extern "C" {}
