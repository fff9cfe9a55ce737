//! The `firedrill` binary: parse arguments, set up logging and signals, call the library, exit
//! with the outcome's [`Exit`] (0 pass, 1 a check or target failed, 2 could not run).

mod cli;

use std::process::ExitCode;

use clap::Parser;
use firedrill::Exit;
use tokio_util::sync::CancellationToken;

/// Colour in logs only for a person at a terminal: never when stderr is a file or pipe (cron,
/// `2>log`, containers), nor when `NO_COLOR` is set to anything but empty (no-color.org).
fn log_colour() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

fn init_logging(format: cli::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FIREDRILL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(log_colour())
        .with_writer(firedrill::progress::LogWriter);
    match format {
        cli::LogFormat::Json => builder.json().init(),
        cli::LogFormat::Text => builder.with_target(false).init(),
    }
}

/// How long the process may take to stop after SIGINT/SIGTERM: inside a Kubernetes pod's
/// default 30 s grace and the schedule daemon's 120 s.
const STOP_WITHIN: std::time::Duration = std::time::Duration::from_secs(29);

/// Cancels the token on SIGINT or SIGTERM; cleanup then runs in the library. Whatever is still
/// running after [`STOP_WITHIN`] (a read blocked in a thread that cannot be interrupted, on a
/// hung network mount) is abandoned: the process exits with 2.
fn watch_signals(cancel: CancellationToken) {
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::warn!(signal = "SIGTERM", "Stopping: cleaning up."),
            _ = int.recv() => tracing::warn!(signal = "SIGINT", "Stopping: cleaning up."),
        }
        cancel.cancel();
        std::thread::spawn(|| {
            std::thread::sleep(STOP_WITHIN);
            eprintln!(
                "error: still stopping {} s after the signal: exiting; run `firedrill cleanup SPEC` to remove what was left",
                STOP_WITHIN.as_secs()
            );
            std::process::exit(i32::from(Exit::CouldNotRun.code()));
        });
    });
}

/// Buffers of 1 MiB and more (S3 parts, pipeline chunks) are mapped and unmapped one by one.
/// glibc's adaptive threshold would otherwise move them into per-thread arenas that keep their
/// pages, and the resident set would grow with the number of parts uploaded (measured: 119
/// MiB instead of 81 MiB for a 2.8 GB database to S3 with 16 MiB x 4 parts).
fn bound_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before any other thread
    // exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn main() -> ExitCode {
    bound_allocator();
    let cli = cli::Cli::parse();
    firedrill::progress::set_mode(
        cli.progress_mode(),
        std::time::Duration::from_secs_f64(cli.progress_interval),
    );
    init_logging(cli.log_format);
    let json = cli::wants_json(&cli);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Exit::CouldNotRun.into();
        }
    };
    let code = runtime.block_on(async {
        let cancel = CancellationToken::new();
        watch_signals(cancel.clone());
        match cli::run(cli, cancel).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {}", e.render());
                if json {
                    cli::print_json(&serde_json::json!({
                        "error": { "kind": e.kind, "message": e.message, "hint": e.hint }
                    }));
                }
                Exit::CouldNotRun
            }
        }
    });
    // Threads still blocked (a read that cannot be interrupted) must not keep the process.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code.into()
}
