//! Tests of the image module. `layout` needs no external tool; `tools` checks the
//! output with skopeo, umoci, oci-image-tool and qemu-aarch64; `registry` pushes to
//! Debian's `docker-registry` and to an in-test stand-in server for the auth flows.

mod attest;
mod external;
mod fake;
mod layout;
mod props;
mod registry;
mod support;
mod tarball;
mod tools;
