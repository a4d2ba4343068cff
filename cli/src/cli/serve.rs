//! `opengpu serve DIR`: serves a directory over HTTP (loopback by default), e.g. the off-chain
//! inputs `task publish --offchain --input-dir DIR` writes there, named by their sha256.
//! Any static HTTP server does the same job; this one needs nothing else installed.

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use clap::Args;
use hyper::service::make_service_fn;
use tower_http::services::ServeDir;

use super::Context;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Directory whose files are served, each at /NAME
    pub dir: PathBuf,
    /// Address to listen on; port 0 picks a free one (the URL is printed)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8088")]
    pub listen: SocketAddr,
}

/// Serves until Ctrl-C (SIGINT) or SIGTERM.
pub async fn run(ctx: &mut Context, args: ServeArgs) -> Result<()> {
    if !args.dir.is_dir() {
        bail!("{} is not a directory", args.dir.display());
    }
    let files = ServeDir::new(&args.dir);
    let make = make_service_fn(move |_| {
        let files = files.clone();
        async move { Ok::<_, Infallible>(files) }
    });
    let server = hyper::Server::try_bind(&args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?
        .serve(make);
    let url = format!("http://{}", server.local_addr());
    let json = serde_json::json!({ "url": url, "dir": args.dir });
    ctx.emit(&json, || {
        format!("serving {} at {url} (Ctrl-C stops)", args.dir.display())
    })?;
    // Scripts wait for this line to learn the port.
    std::io::stdout().flush()?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    server
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        })
        .await
        .context("serving files")
}
