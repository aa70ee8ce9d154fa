//! Kubeconfig files: reading the current context's cluster (for `register-cluster`), merging
//! Flotilla's context into the person's file without disturbing the others (for `configure`),
//! and writing a cluster's kubeconfig whose user runs `flotilla exec-credential`.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;
use yaml_serde::{Mapping, Value};

use crate::error::{local, CliError, Result};
use crate::store::{home_dir, write_private};

/// The kubeconfig to use: `--kubeconfig`, else the first of `$KUBECONFIG`, else
/// `~/.kube/config`.
pub fn path(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = flag {
        return Ok(path.to_owned());
    }
    if let Some(first) = std::env::var_os("KUBECONFIG")
        .and_then(|list| std::env::split_paths(&list).find(|p| !p.as_os_str().is_empty()))
    {
        return Ok(first);
    }
    Ok(home_dir()?.join(".kube").join("config"))
}

/// A cluster as a kubeconfig names it.
pub struct KubeCluster {
    /// The API server URL.
    pub server: String,
    /// The PEM of the CA verifying it, if the kubeconfig has one.
    pub ca_pem: Option<String>,
}

/// The cluster of `context` (or the current context) in the kubeconfig at `path`.
pub fn cluster_of(path: &Path, context: Option<&str>) -> Result<KubeCluster> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::Usage(format!(
            "cannot read the kubeconfig {}: {e} (choose one with --kubeconfig)",
            path.display()
        ))
    })?;
    let doc: Value = yaml_serde::from_str(&text)
        .map_err(|e| CliError::Usage(format!("{} is not a kubeconfig: {e}", path.display())))?;
    let context = match context {
        Some(c) => c.to_owned(),
        None => doc["current-context"]
            .as_str()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "{} has no current context; choose one with --context",
                    path.display()
                ))
            })?
            .to_owned(),
    };
    let named = |list: &str, name: &str| -> Option<Value> {
        doc[list]
            .as_sequence()?
            .iter()
            .find(|e| e["name"].as_str() == Some(name))
            .cloned()
    };
    let ctx = named("contexts", &context)
        .ok_or_else(|| CliError::Usage(format!("no context {context:?} in {}", path.display())))?;
    let cluster_name = ctx["context"]["cluster"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let cluster = named("clusters", &cluster_name).ok_or_else(|| {
        CliError::Usage(format!(
            "context {context:?} names cluster {cluster_name:?}, which {} does not have",
            path.display()
        ))
    })?;
    let server = cluster["cluster"]["server"]
        .as_str()
        .ok_or_else(|| {
            CliError::Usage(format!(
                "cluster {cluster_name:?} has no server in {}",
                path.display()
            ))
        })?
        .to_owned();
    let ca_pem = if let Some(data) = cluster["cluster"]["certificate-authority-data"].as_str() {
        let pem = STANDARD.decode(data.trim()).map_err(|e| {
            CliError::Usage(format!(
                "certificate-authority-data of {cluster_name:?} is not base64: {e}"
            ))
        })?;
        Some(String::from_utf8(pem).map_err(|_| {
            CliError::Usage(format!(
                "certificate-authority-data of {cluster_name:?} is not PEM"
            ))
        })?)
    } else if let Some(file) = cluster["cluster"]["certificate-authority"].as_str() {
        // Relative paths are relative to the kubeconfig, as kubectl reads them.
        let file = path.parent().unwrap_or(Path::new(".")).join(file);
        Some(std::fs::read_to_string(&file).map_err(|e| local("read", &file, e))?)
    } else {
        None
    };
    Ok(KubeCluster { server, ca_pem })
}

/// A kubeconfig user that runs the CLI for its credentials: `exec-credential` with `args`.
pub fn exec_user(args: &[&str]) -> Value {
    let program = std::env::current_exe()
        .ok()
        .and_then(|p| p.to_str().map(str::to_owned))
        .unwrap_or_else(|| "flotilla".to_owned());
    let mut all = vec!["exec-credential"];
    all.extend_from_slice(args);
    let mut exec = json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": program,
        "args": all,
        "interactiveMode": "Never",
        "provideClusterInfo": false,
    });
    // kubectl runs the plugin with its own environment: carry a non-default home along.
    if let Some(home) = std::env::var_os("FLOTILLA_HOME").and_then(|h| h.into_string().ok()) {
        exec["env"] = json!([{ "name": "FLOTILLA_HOME", "value": home }]);
    }
    yaml(json!({ "exec": exec }))
}

/// A cluster entry: `server`, and the CA's PEM if any.
pub fn cluster_entry(server: &str, ca_pem: Option<&str>) -> Value {
    let mut cluster = json!({ "server": server });
    if let Some(pem) = ca_pem {
        cluster["certificate-authority-data"] = STANDARD.encode(pem).into();
    }
    yaml(cluster)
}

/// The YAML value of `json` (which always has one).
fn yaml(json: serde_json::Value) -> Value {
    yaml_serde::to_value(json).unwrap_or(Value::Null)
}

/// The three entries of one context: its cluster, its user and the context tying them.
pub struct Context {
    /// The context's name (also its cluster's and, prefixed, its user's).
    pub name: String,
    /// The cluster entry.
    pub cluster: Value,
    /// The user entry.
    pub user: Value,
}

impl Context {
    fn user_name(&self) -> String {
        format!("{}-user", self.name)
    }

    /// A kubeconfig holding only this context, current.
    pub fn standalone(&self) -> Value {
        let mut doc = skeleton();
        self.merge_into(&mut doc);
        doc["current-context"] = self.name.clone().into();
        doc
    }

    /// Replaces this context's entries in `doc` (or adds them), leaving every other entry as it
    /// was.
    pub fn merge_into(&self, doc: &mut Value) {
        let context = json!({ "cluster": self.name, "user": self.user_name() });
        upsert(doc, "clusters", &self.name, "cluster", self.cluster.clone());
        upsert(doc, "users", &self.user_name(), "user", self.user.clone());
        upsert(doc, "contexts", &self.name, "context", yaml(context));
    }
}

fn skeleton() -> Value {
    yaml(json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "users": [],
        "contexts": [],
        "current-context": "",
    }))
}

fn upsert(doc: &mut Value, list: &str, name: &str, key: &str, body: Value) {
    let mut entry = Mapping::new();
    entry.insert("name".into(), name.into());
    entry.insert(key.into(), body);
    let entry = Value::Mapping(entry);
    if !doc[list].is_sequence() {
        doc[list] = Value::Sequence(Vec::new());
    }
    if let Some(entries) = doc[list].as_sequence_mut() {
        match entries
            .iter_mut()
            .find(|e| e["name"].as_str() == Some(name))
        {
            Some(existing) => *existing = entry,
            None => entries.push(entry),
        }
    }
}

/// Merges `context` into the kubeconfig at `path` (created if missing), making it current
/// only when no context is.
pub fn merge_file(path: &Path, context: &Context) -> Result<()> {
    let mut doc = match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => skeleton(),
        Ok(text) => yaml_serde::from_str(&text).map_err(|e| {
            CliError::Usage(format!(
                "{} is not a kubeconfig ({e}); it was left as it is",
                path.display()
            ))
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => skeleton(),
        Err(e) => return Err(local("read", path, e)),
    };
    if !doc.is_mapping() {
        return Err(CliError::Usage(format!(
            "{} is not a kubeconfig; it was left as it is",
            path.display()
        )));
    }
    context.merge_into(&mut doc);
    if doc["current-context"]
        .as_str()
        .unwrap_or_default()
        .is_empty()
    {
        doc["current-context"] = context.name.clone().into();
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| local("create", dir, e))?;
    }
    write_private(path, to_yaml(&doc)?.as_bytes())
}

/// YAML text of `value`.
pub fn to_yaml<T: serde::Serialize>(value: &T) -> Result<String> {
    yaml_serde::to_string(value).map_err(|e| CliError::Local(format!("cannot write YAML: {e}")))
}
