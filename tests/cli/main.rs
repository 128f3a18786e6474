//! End-to-end tests: the real `cargo-multiarch` binary on the fixture workspaces.

mod support;

mod action;
mod attack;
mod attack_misc;
mod attack_registry;
mod auditable;
mod build;
mod completions;
mod docs;
mod events;
mod help;
mod image;
mod image_tags;
mod init;
mod make;
mod merge;
mod package;
mod plan;
mod platforms;
mod push;
mod sbom;
mod shape;
mod supply;
mod workflow;
