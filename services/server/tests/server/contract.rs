//! The shared typed client (`flotilla-client`, feature `contract`) against the committed
//! OpenAPI document: every operation the client sends is in the document with the same
//! method, path, `operationId` and body schemas, and every type the client sends or reads has
//! the shape of the document's schema of that name (property names, required set, JSON types,
//! references). So the CLI and the agent, which share the client, cannot drift from the
//! server, whose code generates the document (see `openapi.rs`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use flotilla_client::accounts::{AccountRole, Me, PersonSummary, Role};
use flotilla_client::clusters::{
    CertificateInfo, Cluster, ClusterRegistration, Heartbeat, HeartbeatAck, IdentityCa, Kubeconfig,
    Outcome, Registered, Status,
};
use flotilla_client::directory::{BundleMap, SpiffeBundle};
use flotilla_client::endpoints::{
    ClusterEndpoints, EndpointChanges, EndpointReport, EndpointSetReport, EndpointView,
    HostEndpointReport,
};
use flotilla_client::tokens::{
    ApiToken, CreatedApiToken, CreatedRegistrationToken, NewApiToken, NewRegistrationToken,
    RegistrationToken,
};
use flotilla_client::{FieldError, Problem, OPERATIONS};
use serde_json::{json, Map, Value};

const SCHEMAS: &str = "#/components/schemas/";

/// The committed OpenAPI document.
fn document() -> Value {
    let path = crate::support::workspace::repo().join("openapi/openapi.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("openapi.json is JSON")
}

/// The schema of each client type, by the name the client gives it (its `ToSchema` name).
/// Every schema the client's operations reach in the document needs an entry here: a new
/// client type is added to this list, or the test says which one is missing.
fn client_schemas() -> BTreeMap<String, Value> {
    macro_rules! schemas {
        ($($ty:ty),* $(,)?) => {
            [$((
                <$ty as utoipa::ToSchema>::name().into_owned(),
                serde_json::to_value(<$ty as utoipa::PartialSchema>::schema())
                    .expect("a schema serialises"),
            )),*]
        };
    }
    let table = schemas![
        // accounts
        Me,
        PersonSummary,
        AccountRole,
        Role,
        // clusters and the directory
        Cluster,
        ClusterRegistration,
        Registered,
        Outcome,
        Status,
        CertificateInfo,
        IdentityCa,
        Heartbeat,
        HeartbeatAck,
        Kubeconfig,
        BundleMap,
        SpiffeBundle,
        // DNS endpoints
        EndpointReport,
        EndpointView,
        EndpointSetReport,
        HostEndpointReport,
        ClusterEndpoints,
        EndpointChanges,
        // tokens
        ApiToken,
        NewApiToken,
        CreatedApiToken,
        RegistrationToken,
        NewRegistrationToken,
        CreatedRegistrationToken,
        // refusals
        Problem,
        FieldError,
    ];
    let mut by_name = BTreeMap::new();
    for (name, schema) in table {
        assert!(
            by_name.insert(name.clone(), schema).is_none(),
            "two client types are named {name}"
        );
    }
    by_name
}

/// The schema name a `$ref` points at, if `schema` is a reference.
fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix(SCHEMAS)
}

/// What a client operation's `"Name"` or `"[Name]"` stands for, as a schema.
fn expected_schema(name: &str) -> Value {
    match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(item) => json!({ "type": "array", "items": { "$ref": format!("{SCHEMAS}{item}") } }),
        None => json!({ "$ref": format!("{SCHEMAS}{name}") }),
    }
}

/// The `application/json` schema of a request body or response, if it has one.
fn json_schema(with_content: &Value) -> Option<&Value> {
    with_content
        .get("content")?
        .get("application/json")?
        .get("schema")
}

/// A reference or a list of references, for messages: `Name`, `[Name]`, or the schema.
fn describe(schema: &Value) -> String {
    if let Some(name) = ref_name(schema) {
        return name.to_owned();
    }
    match (
        schema["type"].as_str(),
        schema.get("items").and_then(ref_name),
    ) {
        (Some("array"), Some(item)) => format!("[{item}]"),
        _ => schema.to_string(),
    }
}

#[test]
fn every_client_operation_is_in_the_document_as_the_client_sends_it() {
    let doc = document();
    let mut wrong = Vec::new();
    for op in OPERATIONS {
        let method = op.method.as_str().to_ascii_lowercase();
        let at = format!("{} {} ({})", op.method, op.path, op.id);
        let Some(described) = doc["paths"].get(op.path).and_then(|p| p.get(&method)) else {
            wrong.push(format!("{at}: the document has no such operation"));
            continue;
        };
        if described["operationId"] != op.id {
            wrong.push(format!(
                "{at}: the document's operationId is {}",
                described["operationId"]
            ));
        }

        let request = described.get("requestBody").and_then(json_schema);
        match (op.request, request) {
            (Some(name), Some(schema)) if *schema == expected_schema(name) => {}
            (None, None) => {}
            (want, got) => wrong.push(format!(
                "{at}: the client sends {}, the document takes {}",
                want.unwrap_or("no JSON body"),
                got.map_or_else(|| "no JSON body".to_owned(), describe)
            )),
        }

        let responses = described["responses"].as_object().expect("responses");
        let successes: Vec<(&String, &Value)> = responses
            .iter()
            .filter(|(status, _)| status.starts_with('2'))
            .collect();
        if successes.is_empty() {
            wrong.push(format!("{at}: the document has no 2xx answer"));
        }
        for (status, response) in successes {
            let answer = json_schema(response);
            match (op.response, answer) {
                (Some(name), Some(schema)) if *schema == expected_schema(name) => {}
                (None, None) => {}
                (want, got) => wrong.push(format!(
                    "{at}: the client reads {} from a {status}, the document answers {}",
                    want.unwrap_or("no JSON body"),
                    got.map_or_else(|| "no JSON body".to_owned(), describe)
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the client's operations disagree with openapi/openapi.json:\n  {}",
        wrong.join("\n  ")
    );
}

/// Every schema name `schema` references, at any depth.
fn references(schema: &Value, into: &mut Vec<String>) {
    match schema {
        Value::Object(members) => {
            if let Some(name) = ref_name(schema) {
                into.push(name.to_owned());
            }
            for member in members.values() {
                references(member, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| references(i, into)),
        _ => {}
    }
}

/// The document's schemas the client's operations reach (their request and answer bodies,
/// refusals included, and whatever those reference), each with where it was first reached.
fn reached_schemas(doc: &Value) -> BTreeMap<String, String> {
    let mut reached: BTreeMap<String, String> = BTreeMap::new();
    let mut queue: VecDeque<(String, String)> = VecDeque::new();
    for op in OPERATIONS {
        let method = op.method.as_str().to_ascii_lowercase();
        let mut names: Vec<String> = [op.request, op.response]
            .into_iter()
            .flatten()
            .map(|n| n.trim_start_matches('[').trim_end_matches(']').to_owned())
            .collect();
        if let Some(described) = doc["paths"].get(op.path).and_then(|p| p.get(&method)) {
            references(&described["requestBody"], &mut names);
            references(&described["responses"], &mut names);
        }
        queue.extend(
            names
                .into_iter()
                .map(|n| (n, format!("operation {}", op.id))),
        );
    }
    while let Some((name, from)) = queue.pop_front() {
        if reached.contains_key(&name) {
            continue;
        }
        let mut names = Vec::new();
        references(&doc["components"]["schemas"][&name], &mut names);
        queue.extend(names.into_iter().map(|n| (n, format!("schema {name}"))));
        reached.insert(name, from);
    }
    reached
}

/// `schema` reduced to what (de)serialising depends on: references by name; objects as their
/// properties and required set; arrays as their items; maps as their values; JSON types, with
/// `nullable` for `type: [T, "null"]` and `oneOf: [{type: null}, T]`; string enums as their
/// values. A one-element `oneOf` is its element, and an `allOf` (serde's flatten) is the
/// merged object, its references resolved through `resolve`. Descriptions, examples,
/// formats, bounds and `additionalProperties: false` are left out.
fn shape(schema: &Value, resolve: &dyn Fn(&str) -> Option<Value>) -> Value {
    let mut out = Map::new();
    let mut nullable = false;
    if let Some(name) = ref_name(schema) {
        out.insert("ref".into(), json!(name));
    } else if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let (mut properties, mut required) = (Map::new(), BTreeSet::new());
        for part in parts {
            let part = match ref_name(part) {
                Some(name) => match resolve(name) {
                    Some(resolved) => shape(&resolved, resolve),
                    None => return json!({ "unresolved": name }),
                },
                None => shape(part, resolve),
            };
            if part["type"] != "object" {
                return json!({ "allOf of a non-object": part });
            }
            properties.extend(part["properties"].as_object().cloned().unwrap_or_default());
            required.extend(
                part["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned),
            );
        }
        out.insert("type".into(), json!("object"));
        out.insert("properties".into(), Value::Object(properties));
        out.insert("required".into(), json!(required));
    } else if let Some(choices) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let mut rest: Vec<Value> = Vec::new();
        for choice in choices {
            if choice.get("type") == Some(&json!("null")) {
                nullable = true;
            } else {
                rest.push(shape(choice, resolve));
            }
        }
        match <[Value; 1]>::try_from(rest) {
            Ok([only]) => {
                out = only.as_object().cloned().unwrap_or_default();
            }
            Err(rest) => {
                out.insert("oneOf".into(), Value::Array(rest));
            }
        }
    } else {
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let types: Vec<&str> = types
            .into_iter()
            .filter(|t| {
                let null = *t == "null";
                nullable |= null;
                !null
            })
            .collect();
        match types.as_slice() {
            [] => {
                out.insert("type".into(), json!("any"));
            }
            [one] => {
                out.insert("type".into(), json!(one));
            }
            several => {
                out.insert("type".into(), json!(several));
            }
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            let properties: Map<String, Value> = properties
                .iter()
                .map(|(name, p)| (name.clone(), shape(p, resolve)))
                .collect();
            out.insert("properties".into(), Value::Object(properties));
        }
        if out.get("type") == Some(&json!("object")) {
            let required: BTreeSet<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            out.insert("required".into(), json!(required));
            out.entry("properties")
                .or_insert_with(|| Value::Object(Map::new()));
        }
        if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            out.insert("values".into(), shape(values, resolve));
        }
        if let Some(items) = schema.get("items") {
            out.insert("items".into(), shape(items, resolve));
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            let values: BTreeSet<String> = values
                .iter()
                .filter(|v| !v.is_null())
                .map(Value::to_string)
                .collect();
            out.insert("enum".into(), json!(values));
        }
    }
    if nullable {
        out.insert("nullable".into(), json!(true));
    }
    Value::Object(out)
}

/// Compares the client's `shape` with the document's at `path` (`Type.field`), adding each
/// difference, in words, to `wrong`.
fn compare(path: &str, client: &Value, doc: &Value, wrong: &mut Vec<String>) {
    let (Some(c), Some(d)) = (client.as_object(), doc.as_object()) else {
        if client != doc {
            wrong.push(format!(
                "{path}: the client has {client}, the document {doc}"
            ));
        }
        return;
    };
    for key in ["ref", "type", "enum", "nullable", "oneOf", "unresolved"] {
        if c.get(key) != d.get(key) {
            let show = |v: Option<&Value>| v.map_or_else(|| "none".to_owned(), Value::to_string);
            wrong.push(format!(
                "{path}: {key} is {} in the client, {} in the document",
                show(c.get(key)),
                show(d.get(key))
            ));
        }
    }
    if let (Some(cp), Some(dp)) = (
        c.get("properties").and_then(Value::as_object),
        d.get("properties").and_then(Value::as_object),
    ) {
        let required = |o: &Map<String, Value>| -> BTreeSet<String> {
            o.get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        let (cr, dr) = (required(c), required(d));
        let names: BTreeSet<&String> = cp.keys().chain(dp.keys()).collect();
        for name in names {
            let at = format!("{path}.{name}");
            match (cp.get(name), dp.get(name)) {
                (Some(_), None) => wrong.push(format!(
                    "{at}: the client has this property, the document does not"
                )),
                (None, Some(_)) => wrong.push(format!(
                    "{at}: the document has this property, the client does not"
                )),
                (Some(cs), Some(ds)) => {
                    if cr.contains(name) != dr.contains(name) {
                        let says = |r: bool| if r { "required" } else { "optional" };
                        wrong.push(format!(
                            "{at}: {} in the client, {} in the document",
                            says(cr.contains(name)),
                            says(dr.contains(name))
                        ));
                    }
                    compare(&at, cs, ds, wrong);
                }
                (None, None) => {}
            }
        }
    } else if c.contains_key("properties") != d.contains_key("properties") {
        wrong.push(format!(
            "{path}: an object with properties in only one of the client and the document"
        ));
    }
    for (key, suffix) in [("items", "[]"), ("values", "{}")] {
        match (c.get(key), d.get(key)) {
            (Some(ci), Some(di)) => compare(&format!("{path}{suffix}"), ci, di, wrong),
            (None, None) => {}
            (ci, di) => wrong.push(format!(
                "{path}{suffix}: {} in the client, {} in the document",
                ci.map_or_else(|| "none".to_owned(), Value::to_string),
                di.map_or_else(|| "none".to_owned(), Value::to_string)
            )),
        }
    }
}

#[test]
fn every_client_type_has_the_shape_of_the_documents_schema() {
    let doc = document();
    let doc_schemas = doc["components"]["schemas"].clone();
    let client = client_schemas();
    let from_doc = |name: &str| doc_schemas.get(name).cloned();
    let from_client = |name: &str| client.get(name).cloned();

    let reached = reached_schemas(&doc);
    let mut wrong = Vec::new();
    for (name, from) in &reached {
        if doc_schemas.get(name).is_none() {
            wrong.push(format!(
                "{name} (from {from}) is not a schema of the document"
            ));
        } else if !client.contains_key(name) {
            wrong.push(format!(
                "{name} (from {from}) has no client type in contract.rs's table: add the \
                 client's type for it to `client_schemas`"
            ));
        }
    }
    let mut checked = 0;
    for (name, schema) in &client {
        let Some(documented) = doc_schemas.get(name) else {
            wrong.push(format!(
                "{name}: a client type that the document has no schema for"
            ));
            continue;
        };
        compare(
            name,
            &shape(schema, &from_client),
            &shape(documented, &from_doc),
            &mut wrong,
        );
        checked += 1;
    }
    assert!(
        wrong.is_empty(),
        "the client's types disagree with openapi/openapi.json:\n  {}",
        wrong.join("\n  ")
    );
    assert!(
        reached.len() >= 20 && checked == client.len(),
        "reached {} schemas, checked {checked}: {reached:?}",
        reached.len()
    );
}

/// The comparison itself catches what it must, and forgives what does not matter.
#[test]
fn shapes_differ_exactly_where_serialisation_would() {
    let none = |_: &str| None;
    let object = |properties: Value, required: Value| json!({ "type": "object", "properties": properties, "required": required });
    let base = object(
        json!({ "a": { "type": "string" }, "b": { "type": ["integer", "null"] } }),
        json!(["a"]),
    );
    let diff = |client: &Value, doc: &Value| {
        let mut wrong = Vec::new();
        compare("T", &shape(client, &none), &shape(doc, &none), &mut wrong);
        wrong
    };
    // Equivalent spellings: nullable forms, a one-element oneOf, descriptions and formats.
    let same = object(
        json!({
            "a": { "oneOf": [{ "type": "string", "format": "date-time" }], "description": "x" },
            "b": { "oneOf": [{ "type": "null" }, { "type": "integer", "minimum": 0 }] },
        }),
        json!(["a"]),
    );
    assert_eq!(diff(&same, &base), Vec::<String>::new());
    // A renamed property, a property no longer required, another type: each named.
    let renamed = object(
        json!({ "c": { "type": "string" }, "b": { "type": ["integer", "null"] } }),
        json!(["c"]),
    );
    let wrong = diff(&renamed, &base);
    assert!(
        wrong.iter().any(|w| w.starts_with("T.a: the document has")),
        "{wrong:?}"
    );
    assert!(
        wrong.iter().any(|w| w.starts_with("T.c: the client has")),
        "{wrong:?}"
    );
    let optional = object(
        json!({ "a": { "type": "string" }, "b": { "type": ["integer", "null"] } }),
        json!([]),
    );
    assert_eq!(
        diff(&optional, &base),
        ["T.a: optional in the client, required in the document"]
    );
    let retyped = object(
        json!({ "a": { "type": "string" }, "b": { "type": ["string", "null"] } }),
        json!(["a"]),
    );
    assert_eq!(
        diff(&retyped, &base),
        ["T.b: type is \"string\" in the client, \"integer\" in the document"]
    );
    // A flattened part is merged in.
    let part = object(json!({ "a": { "type": "string" } }), json!(["a"]));
    let flattened = json!({ "allOf": [
        { "$ref": "#/components/schemas/Part" },
        object(json!({ "b": { "type": ["integer", "null"] } }), json!([])),
    ]});
    let mut wrong = Vec::new();
    compare(
        "T",
        &shape(&flattened, &|n: &str| (n == "Part").then(|| part.clone())),
        &shape(&base, &none),
        &mut wrong,
    );
    assert_eq!(wrong, Vec::<String>::new());
}
