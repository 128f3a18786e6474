//! End-to-end tests: the real `cargo-multiarch` binary on the fixture workspaces.

mod support;

mod build;
mod help;
mod image;
mod merge;
mod package;
mod plan;
