//! The status the agent writes on Admiralty's resources: whether the reference resolved, a
//! `Resolved` condition (reason and message saying why not), and what it resolved into. A
//! condition keeps its `lastTransitionTime` while its status and reason stay, and a status
//! equal to the one there (but for that time) is not written again.

use serde_json::{json, Map, Value};

/// What to say of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Whether it resolved.
    pub resolved: bool,
    /// The condition's reason, PascalCase.
    pub reason: &'static str,
    /// The condition's message, for a person.
    pub message: String,
    /// The other fields of the status (`cluster`, `server`, ...); `null` removes one.
    pub fields: Map<String, Value>,
}

impl Verdict {
    /// Resolved, for `reason`, with `message`.
    pub fn resolved(reason: &'static str, message: impl Into<String>) -> Self {
        Verdict {
            resolved: true,
            reason,
            message: message.into(),
            fields: Map::new(),
        }
    }

    /// Not resolved, for `reason`, with `message`.
    pub fn refused(reason: &'static str, message: impl Into<String>) -> Self {
        Verdict {
            resolved: false,
            reason,
            message: message.into(),
            fields: Map::new(),
        }
    }

    /// With the status field `key` set to `value`.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(key.to_owned(), value.into());
        self
    }

    /// The status to write over `current`, for an object of `generation`, at `now` (RFC 3339):
    /// every field the agent owns is present (`null` removes what no longer applies).
    pub fn status(
        &self,
        owned: &[&str],
        current: &Value,
        generation: Option<i64>,
        now: &str,
    ) -> Value {
        let previous = current["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "Resolved"));
        let status = if self.resolved { "True" } else { "False" };
        let since = previous
            .filter(|p| p["status"] == status && p["reason"] == self.reason)
            .and_then(|p| p["lastTransitionTime"].as_str())
            .unwrap_or(now);
        let mut out = Map::new();
        for key in owned {
            out.insert((*key).to_owned(), Value::Null);
        }
        out.extend(self.fields.clone());
        out.insert("resolved".into(), json!(self.resolved));
        out.insert("observedGeneration".into(), json!(generation));
        out.insert(
            "conditions".into(),
            json!([{
                "type": "Resolved",
                "status": status,
                "reason": self.reason,
                "message": self.message,
                "lastTransitionTime": since,
                "observedGeneration": generation,
            }]),
        );
        Value::Object(out)
    }
}

/// Whether `desired` says nothing `current` does not (`null` fields count as absent).
pub fn unchanged(desired: &Value, current: &Value) -> bool {
    let Some(desired) = desired.as_object() else {
        return false;
    };
    desired.iter().all(|(key, value)| match value {
        Value::Null => current.get(key).is_none_or(Value::is_null),
        value => current.get(key) == Some(value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_keeps_its_time_while_it_holds_and_an_equal_status_is_unchanged() {
        let v = Verdict::resolved("Resolved", "ok").with("cluster", "eu-1");
        let first = v.status(
            &["cluster", "server"],
            &Value::Null,
            Some(1),
            "2026-01-01T00:00:00Z",
        );
        assert_eq!(first["server"], Value::Null);
        assert_eq!(first["conditions"][0]["status"], "True");
        let again = v.status(
            &["cluster", "server"],
            &first,
            Some(1),
            "2026-01-02T00:00:00Z",
        );
        assert_eq!(again, first, "same verdict, same status, same time");
        let mut current = first.clone();
        current.as_object_mut().map(|m| m.remove("server"));
        assert!(unchanged(&again, &current), "a null field is an absent one");
        let refused = Verdict::refused("NoSuchCluster", "gone").status(
            &["cluster", "server"],
            &first,
            Some(1),
            "2026-01-03T00:00:00Z",
        );
        assert_eq!(
            refused["conditions"][0]["lastTransitionTime"],
            "2026-01-03T00:00:00Z"
        );
        assert_eq!(refused["cluster"], Value::Null);
        assert!(!unchanged(&refused, &first));
    }
}
