//! End-to-end tests: the real `cargo-multiarch` binary on the fixture workspaces.

mod support;

mod action;
mod attack;
mod attack_bounds;
mod attack_contract;
mod attack_misc;
mod attack_registry;
mod auditable;
mod build;
mod cache;
mod completions;
mod docs;
mod events;
mod help;
mod image;
mod image_base;
mod image_tags;
mod init;
mod installers;
mod make;
mod merge;
mod package;
mod plan;
mod platforms;
mod push;
mod sbom;
mod shape;
mod signals;
mod supply;
mod workflow;
