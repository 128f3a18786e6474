//! Tests of the image module: layout writing and verification.

mod layout;
mod support;
