//! The registry client's reading side: manifests and blobs of a base image, and
//! mounting a base's blob into the repository pushed to.

use std::fs::File;

use anyhow::{Result, bail};

use super::{Body, Client};
use crate::image::credentials::Auth;
use crate::image::reference::Reference;
use crate::image::wire::percent_encode;
use crate::output::Shell;

impl<'a> Client<'a> {
    /// A client that only reads from `target`'s repository (a base being pulled).
    pub(in crate::image) fn for_pull(
        target: &'a Reference,
        auth: &'a Auth,
        insecure: bool,
        shell: &'a Shell,
    ) -> Result<Self> {
        let mut client = Self::new(target, auth, insecure, shell)?;
        client.actions = "pull";
        Ok(client)
    }

    /// Mounts `digest` from repository `from` of the same registry; false when the
    /// registry would rather have it uploaded (it answered `202`: the upload it opened
    /// is left to expire).
    pub(super) fn mount_blob(&mut self, digest: &str, from: &str) -> Result<bool> {
        let url = self.url(&format!(
            "/v2/{}/blobs/uploads/?mount={}&from={}",
            self.target.name,
            percent_encode(digest),
            percent_encode(from)
        ))?;
        let reply = self.send("POST", &url, None, &Body::Bytes(&[]))?;
        match reply.status {
            201 => Ok(true),
            202 => Ok(false),
            _ => Err(self.http_error("POST", &url, &reply)),
        }
    }

    /// `GET` of a manifest or index by tag or digest: its media type and bytes.
    pub(in crate::image) fn get_manifest(&mut self, reference: &str) -> Result<(String, Vec<u8>)> {
        let url = self.url(&format!("/v2/{}/manifests/{reference}", self.target.name))?;
        let reply = self.send("GET", &url, None, &Body::None)?;
        if reply.status != 200 {
            return Err(self.http_error("GET", &url, &reply));
        }
        let media_type = reply
            .content_type
            .as_deref()
            .and_then(|t| t.split(';').next())
            .map(str::trim)
            .unwrap_or_default()
            .to_owned();
        Ok((media_type, reply.body))
    }

    /// `GET` of a blob into `file` (at most `max` bytes); the caller checks its digest.
    pub(in crate::image) fn get_blob(&mut self, digest: &str, file: File, max: u64) -> Result<()> {
        let url = self.url(&format!("/v2/{}/blobs/{digest}", self.target.name))?;
        *self.download.borrow_mut() = Some((file, max));
        let reply = self.send("GET", &url, None, &Body::None);
        let wrote = self.download.borrow_mut().take().is_none();
        let reply = reply?;
        if reply.status != 200 {
            return Err(self.http_error("GET", &url, &reply));
        }
        if !wrote {
            bail!("`GET {url}` answered without a body");
        }
        Ok(())
    }

    /// `e` without the secrets this client knows (for errors of a pull).
    pub(in crate::image) fn hide_secrets(&self, e: anyhow::Error) -> anyhow::Error {
        self.redact(e)
    }
}
