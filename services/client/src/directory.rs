//! The public-key directory: the account's SPIFFE bundle map (read at once, or long-polled for
//! a change), and the lookups Admiralty's resources resolve into.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{ETAG, IF_NONE_MATCH};
use serde::{Deserialize, Serialize};

use crate::{Client, Error, BUNDLE_MAP};

/// A SPIFFE bundle map: every trust domain (cluster) of the account with its bundle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct BundleMap {
    /// Bundles by trust domain name.
    pub trust_domains: BTreeMap<String, SpiffeBundle>,
}

/// A SPIFFE bundle: a JWK Set of the trust domain's authorities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(utoipa::ToSchema))]
pub struct SpiffeBundle {
    /// The authorities, as JWKs: `x509-svid` ones carry their CA certificate in `x5c`.
    #[cfg_attr(feature = "contract", schema(value_type = Vec<Object>))]
    pub keys: Vec<serde_json::Value>,
    /// Rises on every change of the bundle; never reused.
    pub spiffe_sequence: i64,
    /// Seconds after which consumers should fetch the bundle again.
    pub spiffe_refresh_hint: u64,
}

impl SpiffeBundle {
    /// The DER certificates of its `x509-svid` authorities (the trust domain's identity CAs).
    pub fn x509_authorities(&self) -> Vec<Vec<u8>> {
        use base64::Engine;
        self.keys
            .iter()
            .filter(|k| k["use"] == "x509-svid")
            .filter_map(|k| k["x5c"].get(0)?.as_str())
            .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .collect()
    }
}

/// What a bundle-map request found.
#[derive(Debug, Clone, PartialEq)]
pub enum BundleMapAnswer {
    /// The map, and its ETag for the next request.
    Changed {
        /// The map.
        map: BundleMap,
        /// Its strong validator.
        etag: String,
    },
    /// The caller's copy is current (304, after waiting when asked to).
    Unchanged,
}

impl Client {
    /// The account's bundle map. With `etag` (the caller's copy) and `wait`, the server holds
    /// the request until the map differs or the wait is over (then `Unchanged`).
    pub async fn bundle_map(
        &self,
        bearer: &str,
        account: &str,
        etag: Option<&str>,
        wait: Option<Duration>,
    ) -> Result<BundleMapAnswer, Error> {
        let mut request = self.request(&BUNDLE_MAP, &[account], bearer)?;
        if let Some(wait) = wait {
            // Longer than the wait, so that a 304 at its end is not a time-out here.
            request = request
                .query(&[("wait", wait.as_secs())])
                .timeout(wait + Duration::from_secs(15));
        }
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        if status == 304 {
            return Ok(BundleMapAnswer::Unchanged);
        }
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = self.read(response).await?;
        let map = self.decode(&BUNDLE_MAP, status, text)?;
        Ok(BundleMapAnswer::Changed {
            map,
            etag: etag.unwrap_or_default(),
        })
    }
}
