//! `opengpu example`: the built-in example kernels, and checking a published example's result
//! against its CPU reference.

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use opengpu_client::Opengpu;
use opengpu_examples::{Example, ExampleError, ExampleTask};
use opengpu_types::kernel::Kernel;
use opengpu_types::TaskId;

use super::output::{fields, table};
use super::{Context, Exit};

/// Exit code of `example check` when the outputs differ from the reference.
pub const EXIT_MISMATCH: u8 = 5;
/// Exit code of `example check` when the task has no accepted result (or the named provider no
/// valid offer) yet.
pub const EXIT_NO_RESULT: u8 = 6;

#[derive(Subcommand, Debug)]
pub enum ExampleCommand {
    /// List the built-in examples: name, default size, largest size a chain can store, what it
    /// computes
    List,
    /// Check a published example task's result against the CPU reference (exit 5 when it
    /// differs, 6 when there is no result yet)
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Task id
    id: TaskId,
    /// The example the task was published as
    #[arg(long, value_name = "NAME")]
    example: Example,
    /// Its size, as printed by `task publish`
    #[arg(long, value_name = "N")]
    size: u32,
    /// Its seed, as printed by `task publish`
    #[arg(long, value_name = "S")]
    seed: u64,
    /// Check the outputs this provider revealed instead of the accepted result (e.g. an offer
    /// before confirming it)
    #[arg(long, value_name = "ADDRESS")]
    provider: Option<String>,
}

pub async fn run(ctx: &mut Context, cmd: ExampleCommand) -> Result<()> {
    match cmd {
        ExampleCommand::List => list(ctx),
        ExampleCommand::Check(args) => check(ctx, args).await,
    }
}

fn list(ctx: &Context) -> Result<()> {
    let json: Vec<serde_json::Value> = Example::ALL
        .iter()
        .map(|e| {
            serde_json::json!({
                "name": e.name(),
                "default_size": e.default_size(),
                "size_multiple": e.size_multiple(),
                "max_size": e.largest_publishable_size(),
                "description": e.description(),
            })
        })
        .collect();
    ctx.emit(&json, || {
        let rows: Vec<Vec<String>> = Example::ALL
            .iter()
            .map(|e| {
                vec![
                    e.name().to_string(),
                    e.default_size().to_string(),
                    e.largest_publishable_size().to_string(),
                    e.description().to_string(),
                ]
            })
            .collect();
        table(&["name", "default size", "max size", "description"], &rows)
    })
}

async fn check(ctx: &mut Context, a: CheckArgs) -> Result<()> {
    // The size limit is the market's business: here only the size rules of the kernel apply.
    let example = ExampleTask::with_buffer_limit(a.example, a.size, a.seed, u64::MAX)
        .map_err(|e| anyhow!("--example: {e}"))?;
    let provider = a
        .provider
        .as_deref()
        .map(|p| ctx.resolve_address(Some(p)))
        .transpose()?;
    let contracts = ctx.contracts()?;
    let chain = ctx.chain().await?;
    let q = Opengpu::new(chain, &contracts);
    let task = q.task(a.id).await?;
    ensure_same_kernel(&task.kernel, &example, a.id)?;
    let has_result = match &provider {
        Some(p) => q
            .offers(a.id)
            .await?
            .offers
            .iter()
            .any(|o| o.provider.as_str() == p),
        None => task.task.settlement.is_some(),
    };
    if !has_result {
        let message = match &provider {
            Some(p) => format!("task {} has no valid offer from {p} yet", a.id),
            None => format!(
                "task {} is {} and has no accepted result yet",
                a.id, task.task.status
            ),
        };
        return Err(Exit {
            code: EXIT_NO_RESULT,
            message,
        }
        .into());
    }
    let result = q.result(a.id, provider).await?;
    let outcome = example.check(&result.outputs);
    let mut json = serde_json::json!({
        "task_id": a.id,
        "provider": result.provider,
        "example": example.example.name(),
        "size": example.size,
        "seed": example.seed,
        "matches": outcome.is_ok(),
    });
    let mut lines = vec![format!(
        "task {}: {} size {} seed {}, outputs of {}",
        a.id, example.example, example.size, example.seed, result.provider
    )];
    match &outcome {
        Ok(report) => {
            json["elements"] = report.elements.into();
            json["max_abs_error"] = report.max_abs_error.into();
            json["mismatches"] = report.mismatches.into();
            json["allowed_mismatches"] = report.allowed_mismatches.into();
            json["tolerance"] = report.tolerance.clone().into();
            lines.push(fields(&[
                ("elements", report.elements.to_string()),
                ("max error", format!("{:e}", report.max_abs_error)),
                (
                    "mismatches",
                    format!(
                        "{} (at most {} allowed)",
                        report.mismatches, report.allowed_mismatches
                    ),
                ),
                ("tolerance", report.tolerance.clone()),
                ("verdict", "matches the reference".to_string()),
            ]));
        }
        Err(e) => {
            if let ExampleError::Mismatch {
                mismatches,
                elements,
                allowed,
                ..
            } = e
            {
                json["elements"] = (*elements).into();
                json["mismatches"] = (*mismatches).into();
                json["allowed_mismatches"] = (*allowed).into();
            }
            json["error"] = e.to_string().into();
        }
    }
    ctx.emit(&json, || lines.join("\n"))?;
    match outcome {
        Ok(_) => Ok(()),
        Err(e) => Err(Exit {
            code: EXIT_MISMATCH,
            message: format!("task {}: {e}", a.id),
        }
        .into()),
    }
}

/// A wrong `--size` or `--seed` would otherwise show up as differing outputs: compare the
/// published kernel with the example's first.
fn ensure_same_kernel(published: &Kernel, example: &ExampleTask, id: TaskId) -> Result<()> {
    let expected = example.kernel();
    let name = format!(
        "{} size {} seed {}",
        example.example, example.size, example.seed
    );
    if published.entry_point != expected.entry_point || published.source != expected.source {
        bail!(
            "task {id} runs `{}`, not the {} example (or another version of it)",
            published.entry_point,
            example.example
        );
    }
    if published.global_work_size != expected.global_work_size
        || published.args.len() != expected.args.len()
    {
        bail!("task {id} is not {name}: its launch differs; check --size");
    }
    if *published != expected {
        bail!("task {id} is not {name}: its inputs differ; check --size and --seed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(size: u32, seed: u64) -> ExampleTask {
        ExampleTask::new(Example::VectorAdd, size, seed).unwrap()
    }

    #[test]
    fn a_task_is_matched_to_its_example_with_a_reason_when_it_is_not() {
        let published = task(64, 1).kernel();
        assert!(ensure_same_kernel(&published, &task(64, 1), 3).is_ok());
        let seed = ensure_same_kernel(&published, &task(64, 2), 3).unwrap_err();
        assert!(seed.to_string().contains("inputs differ"), "{seed}");
        let size = ensure_same_kernel(&published, &task(128, 1), 3).unwrap_err();
        assert!(size.to_string().contains("launch differs"), "{size}");
        let other = ExampleTask::new(Example::HashChain, 64, 1).unwrap();
        let kind = ensure_same_kernel(&published, &other, 3).unwrap_err();
        assert!(
            kind.to_string()
                .contains("runs `vector_add`, not the hash-chain example"),
            "{kind}"
        );
    }
}
