//! The few lines `voc serve` writes for whoever started it, rather than for
//! its log: the address it listens on (scripts and tests read it), the
//! first admin's generated password. They go out as `tracing` events of
//! target [`TARGET`], which the subscriber (`cli::serve`) writes to stdout,
//! whatever `RUST_LOG` says, in the log format chosen (plain text or JSON),
//! and keeps out of the log on stderr.

/// The `tracing` target of the lines for stdout.
pub const TARGET: &str = "voc::stdout";

/// Writes `line` on stdout (through the subscriber).
pub fn announce(line: &str) {
    tracing::info!(target: TARGET, "{line}");
}
