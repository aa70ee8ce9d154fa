//! The ConfigMaps of trusted identities: patched from what the agent last wrote, created when
//! missing, and left alone when someone else's.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{json, Value};

use super::{is_ours, Written, MANAGED_BY};
use crate::k8s::{describe, is_not_found};

/// Makes the ConfigMap `name` of `namespace` hold exactly `data` (keys it no longer has are
/// removed), creating it if there is none; one that is not the agent's is left alone. One the
/// agent wrote is patched from what it wrote, without reading it first. Whether it wrote.
pub async fn write_config_map(
    client: &Client,
    written: &Written,
    namespace: &str,
    name: &str,
    data: &BTreeMap<String, String>,
) -> Result<bool, String> {
    let key = (namespace.to_owned(), name.to_owned());
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let current = match written.map(&key) {
        Some(current) => current,
        None => match api.get(name).await {
            Ok(existing) if is_ours(&existing.metadata) => existing.data.unwrap_or_default(),
            Ok(_) => {
                return Err(format!(
                "the ConfigMap {namespace}/{name} is not the agent's (no {}={} label): left alone",
                MANAGED_BY.0, MANAGED_BY.1
            ))
            }
            Err(e) if is_not_found(&e) => return create_config_map(&api, written, key, data).await,
            Err(e) => return Err(describe(&e)),
        },
    };
    if &current == data {
        written.remember_map(key, Some(current));
        return Ok(false);
    }
    let mut patch: serde_json::Map<String, Value> = current
        .keys()
        .filter(|k| !data.contains_key(*k))
        .map(|k| (k.clone(), Value::Null))
        .collect();
    patch.extend(
        data.iter()
            .filter(|(k, v)| current.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), json!(v))),
    );
    match api
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"data": patch})),
        )
        .await
    {
        Ok(_) => {
            written.remember_map(key, Some(data.clone()));
            Ok(true)
        }
        Err(e) => {
            // Deleted or changed behind the agent's back: read it again next time.
            written.remember_map(key, None);
            Err(describe(&e))
        }
    }
}

async fn create_config_map(
    api: &Api<ConfigMap>,
    written: &Written,
    key: (String, String),
    data: &BTreeMap<String, String>,
) -> Result<bool, String> {
    let map = ConfigMap {
        metadata: ObjectMeta {
            name: Some(key.1.clone()),
            namespace: Some(key.0.clone()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY.0.to_owned(),
                MANAGED_BY.1.to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        data: Some(data.clone()),
        ..ConfigMap::default()
    };
    api.create(&PostParams::default(), &map)
        .await
        .map_err(|e| describe(&e))?;
    written.remember_map(key, Some(data.clone()));
    Ok(true)
}
