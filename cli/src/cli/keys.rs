//! `opengpu keys`: the local keyring.

use std::io::{IsTerminal, Read};

use anyhow::{bail, Context as _, Result};
use clap::Subcommand;
use opengpu_client::keys::{generate_mnemonic, normalize_mnemonic, with_prefix, KeyInfo};
use zeroize::Zeroizing;

use super::output::table;
use super::Context;

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a key from a new 24-word mnemonic, shown once: write it down
    Add {
        /// Name of the new key (letters, digits, `.`, `_`, `-`)
        name: String,
    },
    /// Store a key from an existing mnemonic, read from standard input (or typed, hidden,
    /// on a terminal)
    Import {
        /// Name of the new key
        name: String,
    },
    /// List the keys of the keyring
    List,
    /// Show a key's name and address
    Show {
        /// Key name or address
        name: String,
        /// Print the address alone
        #[arg(long, short = 'a')]
        address: bool,
    },
    /// Delete a key from the keyring (its mnemonic is the only way back)
    Delete {
        /// Key name or address
        name: String,
        /// Do not ask for confirmation
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

pub fn run(ctx: &mut Context, cmd: KeysCommand) -> Result<()> {
    let prefix = ctx.prefix();
    let keyring = ctx.keyring();
    let shown = |info: KeyInfo| -> Result<KeyInfo> {
        Ok(KeyInfo {
            address: with_prefix(&info.address, &prefix)?,
            ..info
        })
    };
    match cmd {
        KeysCommand::Add { name } => {
            let mnemonic = generate_mnemonic();
            let info = shown(keyring.add(&name, &mnemonic, &prefix)?)?;
            let json = serde_json::json!({
                "name": info.name, "address": info.address, "mnemonic": mnemonic.as_str(),
            });
            ctx.emit(&json, || {
                format!(
                    "name:    {}\naddress: {}\n\nWrite this mnemonic down and keep it secret. It is \
                     the only way to recover the key, and it is not shown again:\n\n{}\n",
                    info.name,
                    info.address,
                    mnemonic.as_str()
                )
            })
        }
        KeysCommand::Import { name } => {
            let mnemonic = read_mnemonic()?;
            let info = shown(keyring.add(&name, &mnemonic, &prefix)?)?;
            ctx.emit(&info, || format!("imported {} {}", info.name, info.address))
        }
        KeysCommand::List => {
            let keys: Vec<KeyInfo> = keyring
                .list()?
                .into_iter()
                .map(&shown)
                .collect::<Result<_>>()?;
            ctx.emit(&keys, || {
                if keys.is_empty() {
                    return format!(
                        "no keys in {} (create one with `opengpu keys add NAME`)",
                        keyring.dir().display()
                    );
                }
                let rows: Vec<Vec<String>> = keys
                    .iter()
                    .map(|k| vec![k.name.clone(), k.address.clone()])
                    .collect();
                table(&["name", "address"], &rows)
            })
        }
        KeysCommand::Show { name, address } => {
            let info = shown(keyring.find(&name)?)?;
            ctx.emit(&info, || {
                if address {
                    info.address.clone()
                } else {
                    format!("name:    {}\naddress: {}", info.name, info.address)
                }
            })
        }
        KeysCommand::Delete { name, yes } => {
            let info = keyring.find(&name)?;
            if !yes && !confirm(&format!("Delete key {} ({})?", info.name, info.address))? {
                bail!("not deleted");
            }
            let info = shown(keyring.delete(&info.name)?)?;
            ctx.emit(&info, || format!("deleted {} {}", info.name, info.address))
        }
    }
}

/// The mnemonic from stdin: hidden typing on a terminal, the whole input otherwise.
fn read_mnemonic() -> Result<Zeroizing<String>> {
    let raw = if std::io::stdin().is_terminal() {
        Zeroizing::new(rpassword::prompt_password("Mnemonic (hidden): ")?)
    } else {
        let mut text = Zeroizing::new(String::new());
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the mnemonic from standard input")?;
        text
    };
    let mnemonic = normalize_mnemonic(&raw);
    if mnemonic.is_empty() {
        bail!("no mnemonic on standard input");
    }
    Ok(mnemonic)
}

/// Asks y/N on the terminal; refuses to guess without one.
fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("{question} Pass --yes to confirm without a terminal");
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
