//! `--output table|json|yaml`: tables for people, JSON and YAML (the server's data, whole)
//! for scripts.

use clap::ValueEnum;
use serde_json::Value;

use crate::error::Result;

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
pub struct Column {
    /// The header.
    pub header: &'static str,
    /// Reads the cell.
    pub cell: fn(&Value) -> String,
}

/// Prints `data` (an array, or one object) in `format`, tables with `columns`.
pub fn print(format: Format, data: &Value, columns: &[Column]) -> Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(data).unwrap_or_default()),
        Format::Yaml => print!("{}", crate::kubeconfig::to_yaml(data)?),
        Format::Table => match data.as_array() {
            Some(items) => print_table(items, columns),
            None => {
                let width = columns.iter().map(|c| c.header.len()).max().unwrap_or(0);
                for column in columns {
                    println!("{:width$}  {}", column.header, (column.cell)(data));
                }
            }
        },
    }
    Ok(())
}

fn print_table(items: &[Value], columns: &[Column]) {
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
}

/// The text of `value[field]`: strings as they are, null as `-`, others as JSON.
pub fn text(value: &Value, field: &str) -> String {
    match &value[field] {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A `key=value,...` rendering of an object field (labels).
pub fn pairs(value: &Value, field: &str) -> String {
    match value[field].as_object() {
        Some(map) if !map.is_empty() => map
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(","),
        _ => "-".into(),
    }
}
