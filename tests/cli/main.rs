//! End-to-end tests: the real `cargo-multiarch` binary on the fixture workspaces.

mod support;

mod build;
mod docs;
mod make;
mod package;
mod plan;
