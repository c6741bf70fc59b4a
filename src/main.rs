//! `herald`: flags → config; logging; run a command; error chain → exit code.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use herald::config::{Config, Overrides};
use herald::reload::ConfigSource;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(version, about = "Category RSS and Atom feeds from a folder of Markdown articles")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Build, write the feeds, watch the content folder and serve (the default).
    Serve(Options),
    /// Build once, write the feeds to --out, exit.
    Build(Options),
    /// Parse every article and report each problem; exit 1 if an article was skipped.
    Check(CheckOptions),
}

#[derive(Args, Default, Clone)]
struct Options {
    /// Config file (TOML).
    #[arg(long, env = "HERALD_CONFIG", default_value = "config/herald.toml")]
    config: PathBuf,
    /// Folder of Markdown articles (overrides content.root).
    #[arg(long, env = "HERALD_CONTENT")]
    content: Option<PathBuf>,
    /// Folder the feed files are written to (overrides feeds.out).
    #[arg(long, env = "HERALD_OUT")]
    out: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (overrides server.listen).
    #[arg(long, env = "HERALD_LISTEN")]
    listen: Option<String>,
    /// Public URL of this server, used in feed links (overrides site.base_url).
    #[arg(long, env = "HERALD_BASE_URL")]
    base_url: Option<String>,
}

#[derive(Args, Clone)]
struct CheckOptions {
    #[command(flatten)]
    options: Options,
    /// Print the report as JSON (stable field names, see the README) for CI pipelines.
    #[arg(long)]
    json: bool,
}

/// jemalloc, not glibc malloc. An edit frees multi-MB documents and the pieces they were
/// assembled from, on the rebuild thread and rayon's. glibc kept those pages, scattered
/// between live allocations, until `malloc_trim` after each publish handed them back
/// (without it RSS grew over edits): perf of `herald serve` on 100,000 articles put a
/// quarter of the rebuild thread's time in that trim, its `madvise` and the TLB shootdowns
/// on every core. jemalloc returns freed pages on a background thread instead (below).
/// Against glibc with the trim (bench/ab.sh, interleaved, 2026-11-30): edit p50
/// 13.7-14.8 -> 10.7-11.6 ms at 100,000 articles and 12.2-12.9 -> 9.2-10.3 ms at 5,804;
/// `herald build` of 24,203 in 0.89x the time; resident memory within 5% at 100,000
/// articles, 60 instead of 55 MiB at 5,804 (and no growth over edits).
#[cfg(unix)]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Freed pages go back to the system within about a second (a background thread does it,
/// off the rebuild's path), so the memory of the start-up build does not linger as jemalloc's
/// default 10 s decay would keep it. `_rjem_` is the prefix tikv-jemallocator builds with.
#[cfg(unix)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static MALLOC_CONF: &[u8; 60] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `check` prints its own report; logging its warnings too would say everything twice.
    init_logging(if matches!(cli.command, Some(Command::Check(_))) {
        "error"
    } else {
        "info,actix_server=warn"
    });
    let result = match cli.command.unwrap_or(Command::Serve(Options::default_serve())) {
        Command::Serve(o) => source(&o).and_then(herald::serve::run_watched),
        Command::Build(o) => load(&o).and_then(build),
        Command::Check(o) => load(&o.options).and_then(|cfg| check(cfg, o.json)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

impl Options {
    /// `herald` with no arguments: the same as `herald serve` with its defaults, environment
    /// variables included.
    fn default_serve() -> Options {
        match Cli::try_parse_from(["herald", "serve"]) {
            Ok(Cli { command: Some(Command::Serve(o)) }) => o,
            _ => Options { config: PathBuf::from("config/herald.toml"), ..Options::default() },
        }
    }
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HERALD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
}

fn load(o: &Options) -> anyhow::Result<Arc<Config>> {
    Ok(Arc::new(source(o)?.load()?))
}

/// Where the configuration comes from: the file and the flags/environment overrides (kept, so
/// `herald serve` can apply them again when it reloads the file).
fn source(o: &Options) -> anyhow::Result<ConfigSource> {
    let overrides = Overrides {
        content: o.content.clone(),
        out: o.out.clone(),
        listen: o.listen.clone(),
        base_url: o.base_url.clone(),
    };
    if o.config.exists() {
        Ok(ConfigSource::file(o.config.clone(), overrides))
    } else if o.config == Path::new("config/herald.toml") {
        // The default file is optional: flags and environment variables may say everything.
        let base_dir = o.config.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(ConfigSource { path: None, overrides, base_dir })
    } else {
        anyhow::bail!("config file {} does not exist", o.config.display());
    }
}

fn build(cfg: Arc<Config>) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let mirror = herald::publish::Mirror::new(cfg.feeds.out.clone());
    let writing = || format!("writing feeds to {}", mirror.dir().display());
    // Each document goes to its file's temporary as it is rendered; the files are put in
    // place together below, after the whole build succeeded.
    let staging = Arc::new(mirror.staging().with_context(writing)?);
    let site = herald::site::Site::build_staged(cfg.clone(), Arc::clone(&staging))?;
    let committing = std::time::Instant::now();
    staging.commit().with_context(writing)?;
    mirror.remove_unserved(|file| site.serves(file)).with_context(writing)?;
    tracing::debug!(took = ?committing.elapsed(), "wrote the mirror");
    let (articles, categories) = (site.index().len(), site.index().categories().count());
    let warnings = site.report_totals().warnings;
    tracing::info!(
        "built {} feeds for {articles} articles in {categories} categories ({warnings} warnings) into {} in {:.2?}",
        site.served_count(),
        mirror.dir().display(),
        started.elapsed()
    );
    // The process ends here: freeing every article one by one took ~0.15 s of a
    // 100,000-article build, for nothing.
    std::mem::forget(site);
    Ok(ExitCode::SUCCESS)
}

fn check(cfg: Arc<Config>, json: bool) -> anyhow::Result<ExitCode> {
    let mut site = herald::site::Site::new(cfg)?;
    site.rescan();
    let report = herald::check::Report::from_site(&site);
    print!("{}", if json { report.to_json() } else { report.to_text() });
    Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
