pub const VERSION: &str = "0.9.109";
