//! cargo-multiarch: cross-build every binary of a Rust workspace for several Linux
//! platforms, package reproducible archives with a checksum manifest, and assemble a
//! multi-platform OCI image without a Docker daemon.
//!
//! Stages, each reading only what the one before wrote: `workspace` → `plan` →
//! `build` → `package` → `verify`, `sign`, `merge` → `image`. The layers, the out/
//! contract and the invariants are in ARCHITECTURE.md.

#![warn(unreachable_pub)]

mod apple;
pub mod archive;
mod auditable;
mod backend;
pub mod binary;
mod build;
pub mod cache;

pub mod cargo_config;
mod ccode;
pub mod cli;
pub mod commands;
mod config;
mod date;
mod deps;
pub mod digest;
mod fs;
mod glob;
pub mod image;
mod installer;
pub mod layout;
pub mod limits;
pub mod manifest;
mod merge;
pub mod minisign;
mod oci;
mod outdir;
pub mod output;
mod package;
mod plan;
pub mod platform;
mod probe;
pub mod process;
pub mod provenance;
pub mod record;
pub mod sbom;
mod sign;
mod source;
mod targets;
mod verify;
mod workflow;
mod workspace;
pub mod zig;

#[cfg(test)]
mod testgen;
