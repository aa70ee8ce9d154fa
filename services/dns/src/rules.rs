//! Route53's rules for a change batch, checked before anything is sent. moto accepts batches
//! Route53 would refuse, and a refused batch costs a request and a bisection, so Flotilla never
//! sends one it can tell is wrong. The check is pure: the batch, and what the zone holds of the
//! record groups it touches.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::plan::LATENCY_REGIONS;
use crate::records::{Action, Change, RecordData, RecordKey, RecordSet};

/// Most `ResourceRecord` elements in one request (an UPSERT counts twice).
pub const MAX_RECORDS: usize = 1000;
/// Most characters of values in one request (an UPSERT counts twice).
pub const MAX_CHARS: usize = 32_000;
/// Longest set identifier.
pub const MAX_SET_ID: usize = 128;

/// What one change costs against the per-request limits: (records, characters).
pub fn cost(change: &Change) -> (usize, usize) {
    let times = if change.action == Action::Upsert {
        2
    } else {
        1
    };
    (
        change.set.data.values.len() * times,
        change.set.value_chars() * times,
    )
}

/// Checks `changes` against Route53's rules, given `current`: every set the zone holds at the
/// (name, type) groups the batch touches. Says what is wrong with the first offence.
pub fn check(changes: &[Change], current: &[RecordSet]) -> Result<(), String> {
    let (mut records, mut chars) = (0, 0);
    for change in changes {
        check_set(&change.set)?;
        let (r, c) = cost(change);
        records += r;
        chars += c;
    }
    if records > MAX_RECORDS {
        return Err(format!("the batch holds {records} records; Route53 takes at most {MAX_RECORDS} per request (UPSERT counted twice)"));
    }
    if chars > MAX_CHARS {
        return Err(format!("the batch holds {chars} characters of values; Route53 takes at most {MAX_CHARS} per request (UPSERT counted twice)"));
    }
    let mut zone: BTreeMap<&RecordKey, &RecordData> =
        current.iter().map(|s| (&s.key, &s.data)).collect();
    let mut seen = BTreeSet::new();
    for change in changes {
        let key = &change.set.key;
        if !seen.insert(key) {
            return Err(format!("{} is changed twice in one batch", describe(key)));
        }
        match (change.action, zone.get(key)) {
            (Action::Create, Some(_)) => {
                return Err(format!("CREATE of {}, which already exists", describe(key)))
            }
            (Action::Delete, None) => {
                return Err(format!("DELETE of {}, which does not exist", describe(key)))
            }
            (Action::Delete, Some(data)) if **data != change.set.data => {
                return Err(format!(
                    "DELETE of {} does not repeat its current values exactly",
                    describe(key)
                ))
            }
            _ => {}
        }
        if change.action == Action::Delete {
            zone.remove(key);
        } else {
            zone.insert(key, &change.set.data);
        }
    }
    let touched: BTreeSet<&str> = changes.iter().map(|c| c.set.key.name.as_str()).collect();
    for name in touched {
        check_name(name, &zone)?;
    }
    Ok(())
}

/// One set on its own: name, identifier, routing, TTL and values.
fn check_set(set: &RecordSet) -> Result<(), String> {
    let (key, data) = (&set.key, &set.data);
    let what = describe(key);
    let labels: Vec<&str> = key.name.trim_end_matches('.').split('.').collect();
    if !key.name.ends_with('.')
        || key.name.len() > 255
        || labels.iter().any(|l| l.is_empty() || l.len() > 63)
    {
        return Err(format!("{what}: not a valid DNS name"));
    }
    match (&data.region, data.weight) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "{what}: a set is either latency or weighted, not both"
            ))
        }
        (None, None) if !key.set_id.is_empty() => {
            return Err(format!(
                "{what}: a set identifier needs a routing policy (region or weight)"
            ))
        }
        (Some(_), None) | (None, Some(_))
            if key.set_id.is_empty() || key.set_id.len() > MAX_SET_ID =>
        {
            return Err(format!(
                "{what}: set identifiers must be 1-{MAX_SET_ID} characters"
            ))
        }
        (Some(region), None) if !LATENCY_REGIONS.contains(&region.as_str()) => {
            return Err(format!(
                "{what}: {region:?} is not a region Route53 routes by latency"
            ))
        }
        (None, Some(weight)) if !(0..=255).contains(&weight) => {
            return Err(format!("{what}: weight {weight} is outside 0-255"))
        }
        _ => {}
    }
    if !(0..=i64::from(i32::MAX)).contains(&data.ttl) {
        return Err(format!("{what}: TTL {} is outside 0-2147483647", data.ttl));
    }
    if data.values.is_empty() {
        return Err(format!("{what}: a record set needs at least one value"));
    }
    let valid = |v: &String| match key.rtype.as_str() {
        "A" => v.parse::<Ipv4Addr>().is_ok(),
        "AAAA" => v.parse::<Ipv6Addr>().is_ok(),
        "CNAME" => v.ends_with('.') && v.len() <= 255,
        "TXT" => v.len() >= 2 && v.starts_with('"') && v.ends_with('"') && v.len() <= 257,
        _ => true,
    };
    if let Some(bad) = data.values.iter().find(|v| !valid(v)) {
        return Err(format!(
            "{what}: {bad:?} is not a valid {} value",
            key.rtype
        ));
    }
    if key.rtype == "CNAME" && data.values.len() > 1 {
        return Err(format!("{what}: a CNAME holds exactly one value"));
    }
    Ok(())
}

/// The sets at one name after the batch: CNAMEs alone, one policy per type, one latency set
/// per region, one TTL per weighted group.
fn check_name(name: &str, zone: &BTreeMap<&RecordKey, &RecordData>) -> Result<(), String> {
    let at_name: Vec<(&RecordKey, &RecordData)> = zone
        .iter()
        .filter(|(k, _)| k.name == name)
        .map(|(k, d)| (*k, *d))
        .collect();
    let types: BTreeSet<&str> = at_name.iter().map(|(k, _)| k.rtype.as_str()).collect();
    if types.contains("CNAME") && types.len() > 1 {
        return Err(format!(
            "{name}: a CNAME cannot share its name with other types ({})",
            types.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    for rtype in types {
        let group: Vec<&RecordData> = at_name
            .iter()
            .filter(|(k, _)| k.rtype == rtype)
            .map(|(_, d)| *d)
            .collect();
        let simple = group
            .iter()
            .filter(|d| d.region.is_none() && d.weight.is_none())
            .count();
        let latency: Vec<&str> = group.iter().filter_map(|d| d.region.as_deref()).collect();
        let weighted: Vec<&&RecordData> = group.iter().filter(|d| d.weight.is_some()).collect();
        if (simple > 0 && group.len() > 1) || (!latency.is_empty() && !weighted.is_empty()) {
            return Err(format!(
                "{name} {rtype}: routing policies cannot be mixed in one group"
            ));
        }
        if latency.iter().collect::<BTreeSet<_>>().len() != latency.len() {
            return Err(format!("{name} {rtype}: two latency sets for one region"));
        }
        if weighted
            .iter()
            .map(|d| d.ttl)
            .collect::<BTreeSet<_>>()
            .len()
            > 1
        {
            return Err(format!(
                "{name} {rtype}: the sets of a weighted group must share one TTL"
            ));
        }
    }
    Ok(())
}

/// `name TYPE [set]`, for messages.
pub fn describe(key: &RecordKey) -> String {
    if key.set_id.is_empty() {
        format!("{} {}", key.name, key.rtype)
    } else {
        format!("{} {} (set {})", key.name, key.rtype, key.set_id)
    }
}

#[cfg(test)]
mod tests;
