//! `gatehouse key`: the master key that seals secrets at rest (MFA seeds, signing keys,
//! connection secrets). `rotate` replaces it and seals every secret again, while servers run.

use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use gatehouse_core::crypto::{MasterKey, write_private_file};
use gatehouse_store::transfer::reseal_all;

use crate::app::{PREVIOUS_KEYS_FILE, master_key};
use crate::config::{Config, redact_url};
use crate::output::OutputFormat;

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Print a new random master key (base64), for GATEHOUSE_MASTER_KEY.
    Generate,
    /// Rotate the master key and seal every secret again under it. With the key file
    /// (`<data_dir>/master.key`): a new key replaces it, the old one is kept in
    /// `master.key.previous`, and servers on this data directory take both within seconds. With
    /// GATEHOUSE_MASTER_KEY: give every node the new key there and the old one in
    /// GATEHOUSE_PREVIOUS_MASTER_KEYS first, then run this to seal everything under the new one.
    Rotate(RotateArgs),
}

#[derive(Args)]
pub struct RotateArgs {
    /// Seconds to let running servers take the new key file before sealing under it.
    #[arg(long, default_value_t = 5)]
    wait_seconds: u64,
}

pub async fn run(config: Config, out: OutputFormat, command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Generate => {
            println!("{}", MasterKey::generate().to_base64());
            Ok(())
        }
        KeyCommand::Rotate(args) => rotate(config, out, args).await,
    }
}

async fn rotate(config: Config, out: OutputFormat, args: RotateArgs) -> anyhow::Result<()> {
    if config.master_key.is_empty() {
        let path = config.data_dir.join("master.key");
        let old = master_key(&config)?.to_base64();
        // Keep the old key first, then put the new one in place by a rename: at every moment
        // the files open everything.
        let kept = config.data_dir.join(PREVIOUS_KEYS_FILE);
        let mut previous = std::fs::read_to_string(&kept).unwrap_or_default();
        previous.push_str(&old);
        previous.push('\n');
        let staged = config.data_dir.join("master.key.previous.new");
        let _ = std::fs::remove_file(&staged);
        write_private_file(&staged, previous.as_bytes()).with_context(|| format!("writing {}", staged.display()))?;
        std::fs::rename(&staged, &kept)?;
        let staged = config.data_dir.join("master.key.new");
        let _ = std::fs::remove_file(&staged);
        write_private_file(&staged, MasterKey::generate().to_base64().as_bytes())
            .with_context(|| format!("writing {}", staged.display()))?;
        std::fs::rename(&staged, &path)?;
        eprintln!("A new master key is in {}; the old one is kept in {}.", path.display(), kept.display());
        // Servers look at the key files every 2 s (`serve`): let them seal with the new key, and
        // open with both, before anything is sealed again.
        tokio::time::sleep(Duration::from_secs(args.wait_seconds)).await;
    } else {
        eprintln!("Sealing every secret under GATEHOUSE_MASTER_KEY (the earlier keys must be in GATEHOUSE_PREVIOUS_MASTER_KEYS).");
    }
    let key = master_key(&config)?;
    let url = config.effective_database_url();
    let options =
        gatehouse_store::StoreOptions { max_connections: 2, sqlite_synchronous_full: true, connect_timeout: Duration::from_secs(10) };
    let store = gatehouse_store::connect(&url, &options).await.map_err(|e| anyhow::anyhow!("cannot open {}: {e}", redact_url(&url)))?;
    let counts = reseal_all(store.connection(), &|text| key.reseal_within(text).map_err(|e| e.to_string()))
        .await
        .map_err(|e| anyhow::anyhow!("nothing was sealed again: {e}"))?;
    match out {
        OutputFormat::Json => {
            let rows: serde_json::Map<String, serde_json::Value> = counts.iter().map(|(t, n)| (t.to_string(), (*n).into())).collect();
            println!("{}", serde_json::json!({ "Resealed": rows }));
        }
        OutputFormat::Table => {
            for (table, n) in &counts {
                println!("{table:<20} {n:>8} sealed again");
            }
        }
    }
    eprintln!("Every secret is sealed under the new key. Keep the previous keys until no backup needs them.");
    Ok(())
}
