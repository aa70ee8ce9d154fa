//! Record sets as Flotilla plans them and providers hold them, in Route53's shape: a key
//! (name, type, set identifier) and data (TTL, values, and a region or a weight for routed
//! sets). Names are fully qualified, lower case, with a trailing dot; values are canonical
//! (sorted addresses, qualified CNAME targets, quoted TXT strings), so equal means equal.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The record types Flotilla writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    /// IPv4 addresses.
    A,
    /// IPv6 addresses.
    #[allow(clippy::upper_case_acronyms)]
    AAAA,
    /// An alias for another name.
    #[allow(clippy::upper_case_acronyms)]
    CNAME,
    /// Text: Flotilla's ownership marker.
    #[allow(clippy::upper_case_acronyms)]
    TXT,
}

impl RecordType {
    /// The type as DNS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::AAAA => "AAAA",
            RecordType::CNAME => "CNAME",
            RecordType::TXT => "TXT",
        }
    }
}

/// What identifies a record set in a zone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordKey {
    /// Fully qualified, lower case, with a trailing dot.
    pub name: String,
    /// The record type, as DNS writes it (providers may hold types Flotilla never writes).
    pub rtype: String,
    /// The set identifier of a routed set; empty for a simple one.
    pub set_id: String,
}

/// What a record set holds. Weighted sets have `weight`, latency sets `region`; simple sets
/// neither. Numbers are kept wide so that the preflight check, not a parser, refuses a value
/// out of Route53's range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordData {
    /// Seconds.
    pub ttl: i64,
    /// Canonical values, sorted for address sets.
    pub values: Vec<String>,
    /// The AWS region of a latency set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The weight of a weighted set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
}

/// A record set: key and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSet {
    /// Where it is.
    pub key: RecordKey,
    /// What it holds.
    pub data: RecordData,
}

impl RecordSet {
    /// Characters Route53 counts for this set's values in a change batch.
    pub fn value_chars(&self) -> usize {
        self.data.values.iter().map(String::len).sum()
    }
}

/// What a change does to a record set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    /// Adds a set that must not exist yet.
    Create,
    /// Replaces a set Flotilla holds.
    Upsert,
    /// Removes a set, repeating its exact current data.
    Delete,
}

/// One change of a batch: for a delete, `set` is the exact current set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What to do.
    pub action: Action,
    /// The set created, written or removed.
    pub set: RecordSet,
}

/// Values as a provider lists them, made canonical so they compare equal to planned ones:
/// addresses parsed and sorted, names qualified in lower case, other values sorted.
pub fn canonical_values(rtype: &str, values: Vec<String>) -> Vec<String> {
    match rtype {
        "A" | "AAAA" => {
            let parsed: Option<Vec<std::net::IpAddr>> =
                values.iter().map(|v| v.parse().ok()).collect();
            match parsed {
                Some(mut list) => {
                    list.sort();
                    list.iter().map(ToString::to_string).collect()
                }
                None => values,
            }
        }
        "CNAME" => values.iter().map(|v| fqdn(v)).collect(),
        _ => {
            let mut values = values;
            values.sort();
            values
        }
    }
}

/// `name` fully qualified: lower case with one trailing dot.
pub fn fqdn(name: &str) -> String {
    let mut name = name.trim_end_matches('.').to_ascii_lowercase();
    name.push('.');
    name
}

/// A TXT value as DNS writes it: one quoted string.
pub fn txt(text: &str) -> String {
    format!("\"{text}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_round_trips_in_route53_shape() {
        let data = RecordData {
            ttl: 1,
            values: vec!["192.0.2.1".into()],
            region: None,
            weight: Some(3),
        };
        let json = serde_json::to_value(&data).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"ttl": 1, "values": ["192.0.2.1"], "weight": 3})
        );
        assert_eq!(serde_json::from_value::<RecordData>(json).unwrap(), data);
        assert_eq!(fqdn("Hello.Acme.Example."), "hello.acme.example.");
        assert_eq!(fqdn("hello.acme.example"), "hello.acme.example.");
    }
}
