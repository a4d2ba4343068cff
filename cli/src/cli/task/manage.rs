//! Reading tasks and the transactions that close them: show, list, offers, result, confirm,
//! cancel, expire, finalize.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use opengpu_client::Opengpu;
use opengpu_types::market::{ExecuteMsg, TaskFilter, TaskStatus};
use opengpu_types::TaskId;

use super::render;
use crate::cli::output::tx_json;
use crate::cli::Context;

pub async fn show(ctx: &mut Context, id: TaskId) -> Result<()> {
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?;
    let q = Opengpu::new(chain, &contracts);
    let response = q.task(id).await?;
    let stake_denom = q.vault_config().await?.stake_denom;
    let commitments = q.commitments(id).await?;
    let offers = q.offers(id).await?.offers;
    let bids = if response.task.model.is_auction() {
        Some(q.bids(id).await?)
    } else {
        None
    };
    let height = chain.height().await?;
    let view = render::TaskView {
        task: &response.task,
        kernel: Some(&response.kernel),
        commitments: Some(&commitments),
        height: Some(height),
        stake_denom: &stake_denom,
    };
    let json = serde_json::json!({
        "task": response.task,
        "kernel": response.kernel,
        "phases": render::Phases::of(&response.task, Some(&commitments), Some(height)),
        "commitments": commitments,
        "offers": offers,
        "bids": bids,
    });
    ctx.emit(&json, || {
        let mut text = render::task_fields(&view);
        if let Some(bids) = bids.as_ref().filter(|b| !b.is_empty()) {
            text.push_str("\n\nbids:\n");
            text.push_str(&render::bids_table(&response.task, bids, &stake_denom));
        }
        if !commitments.is_empty() {
            text.push_str("\n\n");
            text.push_str(&render::commitments_table(&response.task, &commitments));
        }
        if !offers.is_empty() {
            text.push_str("\n\nvalid offers:\n");
            text.push_str(&render::offers_table(&offers, &response.task.denom));
        }
        text
    })
}

pub async fn list(
    ctx: &mut Context,
    status: Option<TaskStatus>,
    client: Option<String>,
    start_after: Option<TaskId>,
    limit: usize,
) -> Result<()> {
    let client = client.map(|c| ctx.resolve_address(Some(&c))).transpose()?;
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?;
    let tasks = Opengpu::new(chain, &contracts)
        .tasks(TaskFilter { status, client }, start_after, limit)
        .await?;
    ctx.emit(&tasks, || {
        if tasks.is_empty() {
            "no tasks".into()
        } else {
            render::tasks_table(&tasks)
        }
    })
}

pub async fn offers(ctx: &mut Context, id: TaskId) -> Result<()> {
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?;
    let q = Opengpu::new(chain, &contracts);
    let task = q.task(id).await?.task;
    let offers = q.offers(id).await?.offers;
    ctx.emit(&offers, || {
        if offers.is_empty() {
            format!("task {id} has no valid offer yet")
        } else {
            render::offers_table(&offers, &task.denom)
        }
    })
}

/// Where output `i` of `n` goes: the i-th `--out`, or with a single `--out FILE`, FILE for the
/// first output and FILE.i for the others.
pub fn output_paths(out: &[PathBuf], n: usize) -> Result<Vec<PathBuf>> {
    match out.len() {
        len if len == n => Ok(out.to_vec()),
        1 => Ok((0..n)
            .map(|i| {
                if i == 0 {
                    out[0].clone()
                } else {
                    let mut name = out[0].clone().into_os_string();
                    name.push(format!(".{i}"));
                    PathBuf::from(name)
                }
            })
            .collect()),
        len => bail!("the task has {n} output buffers but --out was given {len} times"),
    }
}

pub async fn result(
    ctx: &mut Context,
    id: TaskId,
    out: Vec<PathBuf>,
    provider: Option<String>,
) -> Result<()> {
    let provider = provider
        .map(|p| ctx.resolve_address(Some(&p)))
        .transpose()?;
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?;
    let result = Opengpu::new(chain, &contracts).result(id, provider).await?;
    let paths = output_paths(&out, result.outputs.len())?;
    let mut files = Vec::new();
    for (path, output) in paths.iter().zip(&result.outputs) {
        write_output(path, output.as_slice())?;
        files.push(serde_json::json!({"path": path, "bytes": output.len()}));
    }
    let json = serde_json::json!({
        "task_id": id,
        "provider": result.provider,
        "outputs_digest": result.outputs_digest,
        "files": files,
    });
    ctx.emit(&json, || {
        let mut lines = vec![format!(
            "task {id}: outputs of {} (digest {})",
            result.provider, result.outputs_digest
        )];
        for (path, output) in paths.iter().zip(&result.outputs) {
            lines.push(format!("wrote {} ({} bytes)", path.display(), output.len()));
        }
        lines.join("\n")
    })
}

fn write_output(path: &Path, data: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}

pub async fn confirm(ctx: &mut Context, id: TaskId, provider: String) -> Result<()> {
    let provider = ctx.resolve_address(Some(&provider))?;
    send(
        ctx,
        ExecuteMsg::Confirm {
            task_id: id,
            provider,
        },
    )
    .await
}

pub enum Close {
    Cancel,
    Expire,
    Finalize,
}

pub async fn close(ctx: &mut Context, how: Close, id: TaskId) -> Result<()> {
    let msg = match how {
        Close::Cancel => ExecuteMsg::Cancel { task_id: id },
        Close::Expire => ExecuteMsg::Expire { task_id: id },
        Close::Finalize => ExecuteMsg::Finalize { task_id: id },
    };
    send(ctx, msg).await
}

/// Sends one market message and reports the market events it caused.
async fn send(ctx: &mut Context, msg: ExecuteMsg) -> Result<()> {
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?.clone();
    let (_, mut signer) = ctx.signer().await?;
    let tx = signer
        .execute(&chain, &contracts.task_market, &msg, &[])
        .await?;
    let events = render::market_events_json(&tx, &contracts.task_market);
    ctx.emit(
        &tx_json(&tx, serde_json::json!({ "events": events })),
        || render::tx_with_events(&tx, &contracts.task_market),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_out_file_fans_out_to_numbered_siblings() {
        let one = vec![PathBuf::from("out/c.bin")];
        assert_eq!(output_paths(&one, 1).unwrap(), one);
        assert_eq!(
            output_paths(&one, 3).unwrap(),
            vec![
                PathBuf::from("out/c.bin"),
                PathBuf::from("out/c.bin.1"),
                PathBuf::from("out/c.bin.2")
            ]
        );
        let two = vec![PathBuf::from("a"), PathBuf::from("b")];
        assert_eq!(output_paths(&two, 2).unwrap(), two);
        assert!(output_paths(&two, 3).is_err());
    }
}
