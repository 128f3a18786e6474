//! Tests of the image module. `layout` needs no external tool; `tools` checks the
//! output with skopeo, umoci, oci-image-tool and qemu-aarch64; `registry` checks the
//! push client's plain-http rules (the pushes run through the CLI against the tests'
//! fake HTTP server, in `tests/cli/push.rs`).

mod attest;
mod external;
mod layout;
mod props;
mod registry;
mod support;
mod tarball;
mod tools;
