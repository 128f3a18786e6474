//! cargo-multiarch: cross-build every binary of a Rust workspace for several Linux
//! platforms, package reproducible archives with a checksum manifest, and assemble a
//! multi-platform OCI image without a Docker daemon.
//!
//! Stages, each reading only what the one before wrote: `workspace` → `plan` →
//! `build` → `package` → `verify`, `sign`, `merge` → `image`. The layers, the out/
//! contract and the invariants are in ARCHITECTURE.md.

pub mod apple;
pub mod archive;
pub mod auditable;
pub mod backend;
pub mod binary;
pub mod build;
pub mod cache;

pub mod cargo_config;
pub mod ccode;
pub mod cli;
pub mod commands;
pub mod config;
pub mod date;
pub mod deps;
pub mod digest;
pub mod fs;
pub mod glob;
pub mod image;
pub mod installer;
pub mod layout;
pub mod limits;
pub mod manifest;
pub mod merge;
pub mod minisign;
pub mod oci;
pub mod outdir;
pub mod output;
pub mod package;
pub mod plan;
pub mod platform;
pub mod probe;
pub mod process;
pub mod provenance;
pub mod record;
pub mod sbom;
pub mod sign;
pub mod source;
pub mod targets;
pub mod verify;
pub mod workflow;
pub mod workspace;
pub mod zig;

#[cfg(test)]
mod testgen;
