//! `--output table|json|yaml`: tables for people, JSON and YAML (the server's data, whole)
//! for scripts.

use std::collections::BTreeMap;

use clap::ValueEnum;
use serde::Serialize;
use serde_json::Value;

use crate::error::{CliError, Result};

/// How data is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns (a list), or one `field: value` per line (one item).
    Table,
    /// The API's JSON, pretty-printed.
    Json,
    /// The API's data as YAML.
    Yaml,
}

/// A table column: its header and how to read the cell from an item.
pub struct Column<T> {
    /// The header.
    pub header: &'static str,
    /// Reads the cell.
    pub cell: fn(&T) -> String,
}

/// Prints a list in `format`: a table with `columns`, or the data whole.
pub fn list<T: Serialize>(format: Format, items: &[T], columns: &[Column<T>]) -> Result<()> {
    if format != Format::Table {
        return whole(format, items);
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| columns.iter().map(|c| (c.cell)(item)).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([c.header.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(columns.iter().map(|c| c.header.to_owned()).collect());
    for row in rows {
        line(row);
    }
    Ok(())
}

/// Prints one item in `format`: a `field  value` line per field, or the data whole.
pub fn one<T: Serialize>(format: Format, item: &T, fields: &[Column<T>]) -> Result<()> {
    if format != Format::Table {
        return whole(format, item);
    }
    let width = fields.iter().map(|c| c.header.len()).max().unwrap_or(0);
    for field in fields {
        println!("{:width$}  {}", field.header, (field.cell)(item));
    }
    Ok(())
}

/// Prints `data` whole: YAML for `yaml`, else pretty JSON. Both go through a JSON value, so
/// keys come sorted, whatever the order of the type's fields.
pub fn whole<T: Serialize + ?Sized>(format: Format, data: &T) -> Result<()> {
    let value = serde_json::to_value(data)
        .map_err(|e| CliError::Local(format!("cannot encode the answer: {e}")))?;
    match format {
        Format::Yaml => print!("{}", crate::kubeconfig::to_yaml(&value)?),
        Format::Json | Format::Table => println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        ),
    }
    Ok(())
}

/// An optional text, `-` when absent.
pub fn or_dash(text: Option<&str>) -> String {
    text.unwrap_or("-").to_owned()
}

/// The API's word for an enum value (`ready`, `viewer`, ...).
pub fn word<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => "-".into(),
    }
}

/// A `key=value,...` rendering of labels, `-` when there are none.
pub fn pairs(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "-".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}
