//! Cluster labels, with Kubernetes' label syntax: a key is an optional DNS-subdomain prefix
//! and `/`, then a name of at most 63 characters; a value is at most 63 characters; both of
//! alphanumerics, `-`, `_` and `.`, beginning and ending with an alphanumeric.

use std::collections::BTreeMap;

use flotilla_core::FieldError;
use utoipa::openapi::schema::{AdditionalProperties, Object, ObjectBuilder, SchemaType, Type};

/// Labels of a cluster, ordered by key.
pub type Labels = BTreeMap<String, String>;

/// The label that places a cluster in a region (for latency-based DNS).
pub const REGION: &str = "region";

/// Most labels one cluster (or registration token) may carry.
pub const MAX_LABELS: usize = 64;

/// A label key's syntax, for the OpenAPI document: an optional DNS-subdomain prefix and `/`,
/// then a name (the prefix's 253-character bound is checked by the server alone).
const KEY_PATTERN: &str =
    "^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*/)?\
    [A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
/// A label value's syntax: empty, or a name.
const VALUE_PATTERN: &str = "^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$";

/// The schema of a label map, with the syntax [`check`] enforces.
pub fn schema() -> Object {
    schema_of(Type::Object.into())
}

/// [`schema`], or `null`.
pub fn nullable_schema() -> Object {
    schema_of(SchemaType::from_iter([Type::Object, Type::Null]))
}

fn schema_of(schema_type: SchemaType) -> Object {
    ObjectBuilder::new()
        .schema_type(schema_type)
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(KEY_PATTERN)),
        ))
        .additional_properties(Some(AdditionalProperties::RefOr(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(VALUE_PATTERN))
                .into(),
        )))
        .max_properties(Some(MAX_LABELS))
        .build()
}

/// Every problem with `labels`, each against its JSON pointer under `base` (`/labels`).
pub fn check(base: &str, labels: &Labels) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if labels.len() > MAX_LABELS {
        errors.push(FieldError::new(
            base,
            format!("at most {MAX_LABELS} labels (got {})", labels.len()),
        ));
        return errors;
    }
    for (key, value) in labels {
        // JSON pointer escaping (RFC 6901) of a key that may contain `/`.
        let field = format!("{base}/{}", key.replace('~', "~0").replace('/', "~1"));
        if let Err(e) = check_key(key) {
            errors.push(FieldError::new(
                &field,
                format!("bad label key {key:?}: {e}"),
            ));
        } else if let Err(e) = check_value(value) {
            errors.push(FieldError::new(&field, format!("bad label value: {e}")));
        }
    }
    errors
}

fn check_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        check_prefix(prefix)?;
    }
    if name.is_empty() {
        return Err("the name part must not be empty".into());
    }
    check_segment(name).map_err(|e| format!("the name part {e}"))
}

fn check_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    check_segment(value)
}

/// A name or value: at most 63 characters of `[A-Za-z0-9_.-]`, alphanumeric at both ends.
fn check_segment(s: &str) -> Result<(), String> {
    if s.len() > 63 {
        return Err(format!(
            "must be at most 63 characters (got {})",
            s.chars().count()
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("may contain only letters, digits, '-', '_' and '.'".into());
    }
    let bytes = s.as_bytes();
    if !bytes[0].is_ascii_alphanumeric() || !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return Err("must begin and end with a letter or a digit".into());
    }
    Ok(())
}

/// A prefix: a DNS subdomain of at most 253 characters.
fn check_prefix(prefix: &str) -> Result<(), String> {
    if prefix.is_empty() || prefix.len() > 253 {
        return Err("the prefix must be a DNS subdomain of 1-253 characters".into());
    }
    if !prefix.split('.').all(flotilla_core::names::is_dns_label) {
        return Err(format!(
            "the prefix {prefix:?} is not a DNS subdomain (lower-case labels separated by dots)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn accepts_kubernetes_labels() {
        let ok = labels(&[
            ("region", "eu-west-1"),
            ("topology.kubernetes.io/zone", "eu-west-1a"),
            ("tier", ""),
            ("A_b.c", "X.y_z"),
        ]);
        assert!(check("/labels", &ok).is_empty());
    }

    #[test]
    fn says_which_label_is_wrong_and_why() {
        let bad = labels(&[
            ("-region", "x"),
            ("Example.com/x", "y"),
            ("zone", "a b"),
            ("k", &"v".repeat(64)),
        ]);
        let errors = check("/labels", &bad);
        assert_eq!(errors.len(), 4, "{errors:?}");
        let by_field = |f: &str| {
            errors
                .iter()
                .find(|e| e.field == f)
                .map(|e| e.message.clone())
                .unwrap_or_default()
        };
        assert!(by_field("/labels/-region").contains("begin and end"));
        assert!(by_field("/labels/Example.com~1x").contains("prefix"));
        assert!(by_field("/labels/zone").contains("letters, digits"));
        assert!(by_field("/labels/k").contains("63"));
    }
}
