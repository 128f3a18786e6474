//! An OCI image layout's `index.json` as `verify` and `image --push` read it
//! (`image::verify_layout`): any bytes give problem lines or an error, never a
//! panic, within the limits. The document is written into a layout of its own on disk, beside a valid
//! `oci-layout`, and the same bytes as the blob of their own digest, so a
//! descriptor naming it is followed.
#![no_main]

use std::sync::OnceLock;

use camino::Utf8PathBuf;
use cargo_multiarch::digest::Sha256;
use libfuzzer_sys::fuzz_target;

fn layout() -> &'static Utf8PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, Utf8PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = Utf8PathBuf::try_from(dir.path().to_path_buf()).expect("UTF-8");
        std::fs::write(path.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
            .expect("written");
        std::fs::create_dir_all(path.join("blobs/sha256")).expect("created");
        (dir, path)
    })
    .1
}

fuzz_target!(|data: &[u8]| {
    let dir = layout();
    let blobs = dir.join("blobs/sha256");
    for e in std::fs::read_dir(&blobs).expect("listed") {
        std::fs::remove_file(e.expect("an entry").path()).expect("removed");
    }
    std::fs::write(blobs.join(Sha256::of(data).as_str()), data).expect("written");
    std::fs::write(dir.join("index.json"), data).expect("written");
    let _ = cargo_multiarch::image::verify_layout(dir);
});
