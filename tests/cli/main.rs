//! End-to-end tests: the real `cargo-multiarch` binary on the fixture workspaces.

mod support;

mod attack;
mod attack_misc;
mod attack_registry;
mod build;
mod docs;
mod help;
mod image;
mod make;
mod merge;
mod package;
mod plan;
mod platforms;
