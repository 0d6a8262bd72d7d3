//! The `voc` binary: parses the command line and hands over to [`voc::cli`].

fn main() -> std::process::ExitCode {
    voc::cli::main()
}
