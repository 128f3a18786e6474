pub const NAME: &str = "musl";
