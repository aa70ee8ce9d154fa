//! JSON request bodies held to what every endpoint of the API expects, before any handler
//! reads them: an object at the top (serde's derive reads `[true, 60]` into a struct's fields
//! in order), no key twice in one object (a map keeps the last of its duplicates silently,
//! while a struct refuses them), and no NUL in any string (Postgres text cannot hold one).
//! A number with a zero fraction (`3600.0`) is an integer, as JSON Schema counts them (serde
//! would refuse it where an integer is read): such a body is rewritten with `3600`.
//! One check for every route, run by the envelope; a body that is not JSON at all is left to
//! the handler's extractor, which says where the syntax breaks.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fmt;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::error::Error;
use crate::problem::FieldError;

/// `request` with its body checked and buffered, or the answer refusing it.
pub async fn checked(request: Request, limit: usize) -> Result<Request, Response> {
    if !carries_json(&request) {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response())
        }
        Err(_) => {
            return Err(
                Error::BadRequest("The request body could not be read in full.".into())
                    .into_response(),
            )
        }
    };
    let inspection = inspect(&bytes);
    if let Some(refusal) = inspection.refusal {
        return Err(Error::Validation(vec![refusal]).into_response());
    }
    let bytes = if inspection.whole_floats {
        with_whole_floats_as_integers(&bytes).map_or(bytes, Bytes::from)
    } else {
        bytes
    };
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// `json` with every number that has a zero fraction written as an integer; `None` if it
/// does not parse (the extractor will say why).
fn with_whole_floats_as_integers(json: &[u8]) -> Option<Vec<u8>> {
    fn rewrite(value: &mut Value) {
        match value {
            Value::Number(n) => {
                if let Some(whole) = n.as_f64().filter(|f| is_whole(*f)) {
                    // In range: `is_whole` keeps to the integers an f64 holds exactly.
                    *n = (whole as i64).into();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(rewrite),
            Value::Object(entries) => entries.values_mut().for_each(rewrite),
            _ => {}
        }
    }
    let mut value: Value = serde_json::from_slice(json).ok()?;
    rewrite(&mut value);
    serde_json::to_vec(&value).ok()
}

/// Whether `f` is an integer that an f64 holds exactly (|f| ≤ 2^53).
fn is_whole(f: f64) -> bool {
    f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0
}

/// Whether `request` sends a JSON body (`application/json` or `+json`) with a method that has
/// one.
fn carries_json(request: &Request) -> bool {
    let method = request.method();
    if method != Method::POST && method != Method::PUT && method != Method::PATCH {
        return false;
    }
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .is_some_and(|essence| {
            let suffix = essence.get(essence.len().saturating_sub(5)..).unwrap_or("");
            essence.eq_ignore_ascii_case("application/json") || suffix.eq_ignore_ascii_case("+json")
        })
}

/// What a look through a body found.
struct Inspection {
    /// The first rule it breaks, as the field it is about; `None` when it keeps them all, or
    /// when it is not JSON at all (the extractor reports that).
    refusal: Option<FieldError>,
    /// Whether it holds a number with a zero fraction written as a float (`3600.0`).
    whole_floats: bool,
}

fn inspect(json: &[u8]) -> Inspection {
    let found = RefCell::new(None);
    let whole_floats = Cell::new(false);
    let mut reader = serde_json::Deserializer::from_slice(json);
    let walk = Walk {
        pointer: String::new(),
        found: &found,
        whole_floats: &whole_floats,
    };
    // Either a rule was broken (recorded in `found`), or the syntax is the extractor's to
    // report: the error itself says nothing more.
    let _ = walk.deserialize(&mut reader);
    Inspection {
        refusal: found.into_inner(),
        whole_floats: whole_floats.get(),
    }
}

/// A value at `pointer` (a JSON pointer; empty for the whole body).
struct Walk<'f> {
    pointer: String,
    found: &'f RefCell<Option<FieldError>>,
    whole_floats: &'f Cell<bool>,
}

/// The error that stops the walk once a rule is broken (the rule is in `found`).
#[derive(Debug)]
struct Broken;

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a rule of request bodies is broken")
    }
}

impl Walk<'_> {
    fn refuse<E: serde::de::Error>(&self, message: &str) -> E {
        *self.found.borrow_mut() = Some(FieldError::new(self.pointer.clone(), message));
        E::custom(Broken)
    }

    fn at_top(&self) -> bool {
        self.pointer.is_empty()
    }

    fn below(&self, segment: &str) -> Walk<'_> {
        let escaped = segment.replace('~', "~0").replace('/', "~1");
        Walk {
            pointer: format!("{}/{escaped}", self.pointer),
            found: self.found,
            whole_floats: self.whole_floats,
        }
    }

    fn text<E: serde::de::Error>(&self, s: &str) -> Result<(), E> {
        if s.contains('\0') {
            return Err(self.refuse("must not contain a NUL character (\\u0000)"));
        }
        self.scalar()
    }

    fn scalar<E: serde::de::Error>(&self) -> Result<(), E> {
        if self.at_top() {
            return Err(self.refuse("the request body must be a JSON object"));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }

    fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<(), E> {
        if is_whole(f) {
            self.whole_floats.set(true);
        }
        self.scalar()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.scalar()
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<(), E> {
        self.text(s)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        if self.at_top() {
            return Err(self.refuse("the request body must be a JSON object, not an array"));
        }
        let mut index = 0usize;
        while items
            .next_element_seed(self.below(&index.to_string()))?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        let mut keys = HashSet::new();
        while let Some(key) = entries.next_key::<Cow<'de, str>>()? {
            let field = self.below(&key);
            if key.contains('\0') {
                return Err(field.refuse("a key must not contain a NUL character (\\u0000)"));
            }
            if !keys.insert(key.clone()) {
                return Err(field.refuse("appears twice in the same object"));
            }
            entries.next_value_seed(field)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(json: &str) -> Option<(String, String)> {
        inspect(json.as_bytes())
            .refusal
            .map(|e| (e.field, e.message))
    }

    #[test]
    fn whole_floats_become_integers_and_others_stay() {
        let json = r#"{"ttl_seconds": 3600.0, "a": [1.5, -2.0, 1e3], "n": 7}"#;
        assert!(inspect(json.as_bytes()).whole_floats);
        assert!(!inspect(br#"{"a": 1.5, "b": 2}"#).whole_floats);
        let rewritten: Value =
            serde_json::from_slice(&with_whole_floats_as_integers(json.as_bytes()).unwrap())
                .unwrap();
        assert_eq!(
            rewritten,
            serde_json::json!({"ttl_seconds": 3600, "a": [1.5, -2, 1000], "n": 7})
        );
        assert!(rewritten["ttl_seconds"].is_u64());
    }

    #[test]
    fn objects_with_unique_keys_and_no_nul_pass() {
        assert_eq!(
            refused(r#"{"name": "eu-1", "labels": {"a": "1", "b": "2"}}"#),
            None
        );
        assert_eq!(
            refused(r#"{"items": [{"a": 1}, {"a": 2}], "x": null}"#),
            None
        );
        // Not JSON: left to the extractor, which says where.
        assert_eq!(refused(r#"{"name": "#), None);
    }

    #[test]
    fn arrays_and_scalars_at_the_top_are_refused() {
        let top = refused(r#"[true, 60]"#).expect("refused");
        assert_eq!(top.0, "");
        assert!(top.1.contains("object"), "{}", top.1);
        assert!(refused(r#""text""#).is_some());
        assert!(refused("60").is_some());
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        let twice = refused(r#"{"labels": {"region": "eu", "region": "us"}}"#).expect("refused");
        assert_eq!(twice.0, "/labels/region");
        assert!(refused(r#"{"name": "a", "name": "b"}"#).is_some());
        assert!(refused(r#"{"a": [{"k": 1, "k": 2}]}"#).is_some());
    }

    #[test]
    fn nul_in_any_string_or_key_is_refused_with_its_field() {
        let nul = refused(r#"{"server": "https://x\u0000"}"#).expect("refused");
        assert_eq!(nul.0, "/server");
        let deep = refused(r#"{"labels": {"a/b": "x\u0000"}}"#).expect("refused");
        assert_eq!(deep.0, "/labels/a~1b");
        assert!(refused(r#"{"labels": {"k\u0000": "x"}}"#).is_some());
    }
}
