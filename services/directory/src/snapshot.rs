//! An account's directory at one moment: every cluster's kubeconfig, trusted identity CAs,
//! SPIFFE bundle and the account's bundle map, read in one statement (one consistent
//! snapshot, by `store::clusters_of`) and rendered once, with their ETags, for every request
//! until the next change.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::HeaderValue;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use flotilla_core::{AppContext, Error};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::jwk;
use crate::settings::DirectorySettings;
use crate::store::{self, ClusterEntry};

/// A rendered document and its strong ETag (a digest of the body).
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The body.
    pub body: Bytes,
    /// `"<digest>"`.
    pub etag: HeaderValue,
}

impl Rendered {
    fn json(value: &impl Serialize) -> Result<Self, Error> {
        let body = serde_json::to_vec(value).map_err(|e| Error::Internal(e.into()))?;
        Ok(Self::of(body))
    }

    fn of(body: Vec<u8>) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, &body);
        let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest.as_ref()[..18]));
        Self {
            body: Bytes::from(body),
            etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
        }
    }
}

/// Where a cluster's API server is, and the CA to verify it with: what Admiralty's
/// `Kubeconfig` resolves its `admiraltyReference` into.
#[derive(Debug, Serialize, ToSchema)]
pub struct Kubeconfig {
    /// The cluster.
    pub cluster: String,
    /// URL of its Kubernetes API server.
    #[schema(example = "https://203.0.113.10:6443")]
    pub server: String,
    /// The server CA certificate, PEM, base64-encoded (kubeconfig's
    /// `certificate-authority-data`).
    pub certificate_authority_data: String,
}

/// Whom to trust for workloads of a cluster: what Admiralty's `TrustedIdentityProvider`
/// resolves its `admiraltyReference` into.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityProvider {
    /// The cluster.
    pub cluster: String,
    /// SPIFFE ID prefix of its workloads.
    #[schema(example = "spiffe://eu-1/")]
    pub prefix: String,
    /// Every identity CA the cluster currently trusts (the current one and those a rotation
    /// replaced, until removed), PEM, concatenated, base64-encoded.
    pub certificate_authority_data: String,
    /// The cluster's bundle sequence number: it rises whenever this set changes.
    pub spiffe_sequence: i64,
}

/// A SPIFFE bundle (SPIFFE Trust Domain and Bundle specification): a JWK Set of the trust
/// domain's `x509-svid` authorities (one per trusted identity CA, the certificate in `x5c`)
/// and `jwt-svid` authorities (with `kid`).
#[derive(Debug, Serialize, ToSchema)]
pub struct SpiffeBundle {
    /// The authorities, as JWKs.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<Value>,
    /// Rises on every change of the bundle; never reused.
    pub spiffe_sequence: i64,
    /// Seconds after which consumers should fetch the bundle again.
    pub spiffe_refresh_hint: u64,
}

/// A SPIFFE bundle map: every trust domain of the account (one per cluster, named as the
/// cluster) with its bundle, as gRPC and Envoy read it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BundleMap {
    /// Bundles by trust domain name.
    pub trust_domains: std::collections::BTreeMap<String, SpiffeBundle>,
}

/// One cluster's rendered documents.
#[derive(Debug)]
pub struct ClusterDocs {
    /// [`Kubeconfig`], JSON.
    pub kubeconfig: Rendered,
    /// A kubeconfig document (YAML) holding the cluster and no user.
    pub kubeconfig_yaml: Rendered,
    /// [`IdentityProvider`], JSON.
    pub identity_provider: Rendered,
    /// [`SpiffeBundle`], JSON.
    pub bundle: Rendered,
    /// The `jwt-svid` keys the cluster publishes.
    pub jwt_authorities: Vec<Value>,
    /// Its bundle's sequence number.
    pub spiffe_sequence: i64,
}

/// An account's directory.
#[derive(Debug)]
pub struct Snapshot {
    /// By cluster name.
    pub clusters: HashMap<String, Arc<ClusterDocs>>,
    /// [`BundleMap`] of every trust domain of the account.
    pub map: Rendered,
}

/// Reads and renders the directory of `account`, with the refresh hint of `settings`.
pub async fn load(
    ctx: &AppContext,
    settings: &DirectorySettings,
    account: Uuid,
) -> Result<Snapshot, Error> {
    let mut conn = ctx.db.acquire().await?;
    let clusters = store::clusters_of(&mut conn, account).await?;
    render(clusters, settings.spiffe_refresh_hint.0.as_secs())
}

fn render(entries: Vec<ClusterEntry>, refresh_hint: u64) -> Result<Snapshot, Error> {
    let mut clusters = HashMap::with_capacity(entries.len());
    let mut trust_domains = std::collections::BTreeMap::new();
    for entry in entries {
        let ClusterEntry {
            name,
            server,
            server_ca,
            bundle_sequence: sequence,
            identity_cas,
            jwt_keys,
        } = entry;
        let mut keys = Vec::with_capacity(identity_cas.len());
        for der in &identity_cas {
            // Only checked certificates are stored; one that no longer reads is left out
            // (and said) rather than failing the whole account's directory.
            match jwk::x509_svid(der) {
                Ok(key) => keys.push(key),
                Err(e) => {
                    tracing::error!(cluster = %name, error = %e, "an identity CA cannot be published")
                }
            }
        }
        let jwt_authorities = match jwt_keys {
            Some(Value::Array(jwt_keys)) => jwt_keys,
            _ => Vec::new(),
        };
        keys.extend(jwt_authorities.iter().cloned());
        let bundle = SpiffeBundle {
            keys,
            spiffe_sequence: sequence,
            spiffe_refresh_hint: refresh_hint,
        };
        let ca_data = STANDARD.encode(pem(&server_ca));
        let docs = ClusterDocs {
            kubeconfig: Rendered::json(&Kubeconfig {
                cluster: name.clone(),
                server: server.clone(),
                certificate_authority_data: ca_data.clone(),
            })?,
            kubeconfig_yaml: Rendered::of(kubeconfig_yaml(&name, &server, &ca_data).into_bytes()),
            identity_provider: Rendered::json(&IdentityProvider {
                cluster: name.clone(),
                prefix: format!("spiffe://{name}/"),
                certificate_authority_data: STANDARD
                    .encode(identity_cas.iter().map(|der| pem(der)).collect::<String>()),
                spiffe_sequence: sequence,
            })?,
            bundle: Rendered::json(&bundle)?,
            jwt_authorities,
            spiffe_sequence: sequence,
        };
        clusters.insert(name.clone(), Arc::new(docs));
        trust_domains.insert(name, bundle);
    }
    Ok(Snapshot {
        clusters,
        map: Rendered::json(&BundleMap { trust_domains })?,
    })
}

/// A kubeconfig with one cluster, a context for it and no user: the caller adds its own
/// credentials (`flotilla get-cluster-kubeconfig` adds an exec plugin). Strings are written
/// as JSON strings, which YAML reads as double-quoted scalars, so no value can break out.
fn kubeconfig_yaml(name: &str, server: &str, ca_data: &str) -> String {
    let quoted = |s: &str| Value::from(s).to_string();
    let name = quoted(name);
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: {name}\n  \
           cluster:\n    \
             server: {server}\n    \
             certificate-authority-data: {ca_data}\n\
         contexts:\n\
         - name: {name}\n  \
           context:\n    \
             cluster: {name}\n\
         current-context: {name}\n\
         users: []\n\
         preferences: {{}}\n",
        server = quoted(server),
        ca_data = quoted(ca_data),
    )
}

/// A DER certificate as PEM.
pub fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 60);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}
