//! Text and JSON rendering shared by the commands.

use anyhow::{Context as _, Result};
use opengpu_client::TxOutcome;
use serde::Serialize;

/// Writes one JSON document to stdout.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).context("encoding JSON output")?;
    println!("{text}");
    Ok(())
}

/// Left-aligned columns separated by two spaces; the header row in capitals.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = vec![line(
        headers
            .iter()
            .map(|h| h.to_uppercase())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    )];
    for row in rows {
        out.push(line(row.iter().map(String::as_str).collect()));
    }
    out.join("\n")
}

/// `key: value` lines with aligned values.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    pairs
        .iter()
        .map(|(k, v)| format!("{:<width$} {v}", format!("{k}:")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The line every transaction command prints first.
pub fn tx_line(tx: &TxOutcome) -> String {
    format!(
        "txhash {} (height {}, gas {} of {})",
        tx.txhash, tx.height, tx.gas_used, tx.gas_wanted
    )
}

/// A transaction in JSON: hash, height, gas, and the command's own fields.
pub fn tx_json(tx: &TxOutcome, extra: serde_json::Value) -> serde_json::Value {
    let mut value = serde_json::json!({
        "txhash": tx.txhash,
        "height": tx.height,
        "gas_wanted": tx.gas_wanted,
        "gas_used": tx.gas_used,
    });
    if let (Some(map), serde_json::Value::Object(extra)) = (value.as_object_mut(), extra) {
        map.extend(extra);
    }
    value
}

/// Bytes for people: `4096 B`, `8.0 KiB`, `1.5 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let text = table(
            &["id", "status"],
            &[
                vec!["1".into(), "open".into()],
                vec!["12".into(), "settled".into()],
            ],
        );
        assert_eq!(text, "ID  STATUS\n1   open\n12  settled");
    }

    #[test]
    fn byte_sizes_read_well() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(8192), "8.0 KiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
    }
}
