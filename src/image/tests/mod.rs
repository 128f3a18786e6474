//! Tests of the image module. `layout` and `tarball` need no external tool; `tools`
//! checks the output with skopeo, umoci, oci-image-tool and qemu-aarch64.

mod external;
mod layout;
mod support;
mod tarball;
mod tools;
