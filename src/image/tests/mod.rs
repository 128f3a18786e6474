//! Tests of the image module: layout writing and verification, and the archive.

mod layout;
mod support;
mod tarball;
