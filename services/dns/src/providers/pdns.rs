//! The PowerDNS provider: the authoritative server's HTTP API. Its zone is the base domain;
//! a batch is one PATCH of REPLACE/DELETE rrsets, which PowerDNS applies atomically.
//!
//! PowerDNS has no latency or weighted routing, so plans for it are plain (see
//! [`crate::plan`]). It does not refuse a REPLACE over a record set someone else wrote, so
//! before a batch that creates sets the zone is read and the batch checked against it: a
//! create where a set already exists is refused here, exactly as Route53 would refuse it,
//! and never reaches the server.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use url::Url;

use super::{transport_failure, Ack, Failure, Listing};
use crate::records::{canonical_values, Action, Change, RecordData, RecordKey, RecordSet};
use crate::rules;
use crate::settings::DnsSettings;

/// A PowerDNS server's zone.
pub struct Pdns {
    client: Client,
    zone_url: Url,
    zones_url: Url,
    zone: String,
    key: SecretString,
    timeout: Duration,
}

#[derive(Deserialize)]
struct Zone {
    rrsets: Vec<Rrset>,
}

#[derive(Deserialize)]
struct Rrset {
    name: String,
    #[serde(rename = "type")]
    rtype: String,
    ttl: i64,
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    content: String,
    #[serde(default)]
    disabled: bool,
}

impl Pdns {
    /// The provider of `--pdns-api-url`, `--pdns-api-key` and `--pdns-server-id`, for the zone
    /// of `base_domain`.
    pub fn from_settings(settings: &DnsSettings, base_domain: &str) -> anyhow::Result<Pdns> {
        let api = settings
            .pdns_api_url
            .clone()
            .ok_or_else(|| anyhow::anyhow!("FLOTILLA_PDNS_API_URL is not set"))?;
        let key = settings
            .pdns_api_key
            .clone()
            .ok_or_else(|| anyhow::anyhow!("FLOTILLA_PDNS_API_KEY is not set"))?;
        let zone = format!("{base_domain}.");
        let server = &settings.pdns_server_id;
        let zones_url = api.join(&format!("api/v1/servers/{server}/zones"))?;
        let zone_url = api.join(&format!("api/v1/servers/{server}/zones/{zone}"))?;
        let timeout = settings.dns_provider_timeout.0;
        let client = Client::builder().timeout(timeout).build()?;
        Ok(Pdns {
            client,
            zone_url,
            zones_url,
            zone,
            key,
            timeout,
        })
    }

    /// Every record set of the zone (one request). A missing zone is created, empty.
    pub async fn list(&self) -> Result<Listing, Failure> {
        let response = self.send(self.client.get(self.zone_url.clone())).await?;
        if response.status() == StatusCode::NOT_FOUND {
            self.create_zone().await?;
            return Ok(Listing {
                sets: Vec::new(),
                requests: 2,
            });
        }
        let zone: Zone = read(response).await?;
        let sets = zone
            .rrsets
            .into_iter()
            .filter_map(|r| {
                let values: Vec<String> = r
                    .records
                    .into_iter()
                    .filter(|r| !r.disabled)
                    .map(|r| r.content)
                    .collect();
                (!values.is_empty()).then(|| RecordSet {
                    key: RecordKey {
                        name: r.name.to_ascii_lowercase(),
                        set_id: String::new(),
                        rtype: r.rtype.clone(),
                    },
                    data: RecordData {
                        ttl: r.ttl,
                        values: canonical_values(&r.rtype, values),
                        region: None,
                        weight: None,
                    },
                })
            })
            .collect();
        Ok(Listing { sets, requests: 1 })
    }

    async fn create_zone(&self) -> Result<(), Failure> {
        let body = json!({ "name": self.zone, "kind": "Native", "nameservers": [] });
        let response = self
            .send(self.client.post(self.zones_url.clone()).json(&body))
            .await?;
        read_empty(response).await
    }

    /// Applies `changes` in one PATCH. A batch that creates sets is first checked against
    /// what the zone holds, since PowerDNS would replace a foreign set silently; one that only
    /// replaces or deletes Flotilla's own sets (a failover) goes at once: PowerDNS itself
    /// refuses a CNAME beside other types, and a DELETE of nothing is harmless.
    pub async fn apply(&self, changes: &[Change]) -> Result<Ack, Failure> {
        if changes.iter().any(|c| c.action == Action::Create) {
            let listing = self.list().await?;
            let touched: Vec<&str> = changes.iter().map(|c| c.set.key.name.as_str()).collect();
            let current: Vec<RecordSet> = listing
                .sets
                .into_iter()
                .filter(|s| touched.contains(&s.key.name.as_str()))
                .collect();
            rules::check(changes, &current).map_err(Failure::Rejected)?;
        }
        let rrsets: Vec<serde_json::Value> = changes
            .iter()
            .map(|c| {
                let (key, data) = (&c.set.key, &c.set.data);
                match c.action {
                    Action::Delete => json!({ "name": key.name, "type": key.rtype, "changetype": "DELETE" }),
                    Action::Create | Action::Upsert => json!({
                        "name": key.name,
                        "type": key.rtype,
                        "ttl": data.ttl,
                        "changetype": "REPLACE",
                        "records": data.values.iter().map(|v| json!({ "content": v, "disabled": false })).collect::<Vec<_>>(),
                    }),
                }
            })
            .collect();
        let request = self
            .client
            .patch(self.zone_url.clone())
            .json(&json!({ "rrsets": rrsets }));
        read_empty(self.send(request).await?).await?;
        Ok(Ack::default())
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, Failure> {
        request
            .header("X-API-Key", self.key.expose_secret())
            .send()
            .await
            .map_err(|e| transport_failure(&e, self.timeout))
    }
}

/// The failure an error answer stands for: the server's fault, or the batch's.
async fn failure(response: reqwest::Response) -> Failure {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(300).collect());
    let message = format!("PowerDNS answered {status}: {message}");
    if status.is_server_error() {
        // PowerDNS applies a PATCH in one transaction, but a gateway in front of it may have
        // passed the request on: only a re-read of the zone can tell.
        Failure::Unknown(message)
    } else if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        Failure::Unavailable(message)
    } else if status == StatusCode::TOO_MANY_REQUESTS {
        Failure::Throttled(message)
    } else {
        Failure::Rejected(message)
    }
}

async fn read<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T, Failure> {
    if !response.status().is_success() {
        return Err(failure(response).await);
    }
    response
        .json()
        .await
        .map_err(|e| Failure::Unavailable(format!("PowerDNS's answer cannot be read: {e}")))
}

async fn read_empty(response: reqwest::Response) -> Result<(), Failure> {
    if response.status().is_success() {
        Ok(())
    } else {
        Err(failure(response).await)
    }
}
