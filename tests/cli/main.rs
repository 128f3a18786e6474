//! End-to-end tests: the real `cargo-multiarch` binary on the fixture workspaces.

mod support;

mod attack_misc;
mod build;
mod docs;
mod help;
mod image;
mod make;
mod merge;
mod package;
mod plan;
