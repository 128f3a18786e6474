use std::process::ExitCode;

use cargo_multiarch::cli::Cargo;
use cargo_multiarch::output::Exit;
use cargo_multiarch::process;
use clap::Parser as _;

fn main() -> ExitCode {
    // The hidden modes, before clap: the compiler's arguments are not ours.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `--cache sccache`'s rustc shim: cargo runs this executable as rustc.
    if cargo_multiarch::cache::is_shim(&args) {
        let err = cargo_multiarch::cache::exec_shim(&args[1..]);
        eprintln!("error: {err:#}");
        return ExitCode::FAILURE;
    }
    if args.get(1).is_some_and(|a| a == "multiarch")
        && args
            .get(2)
            .is_some_and(|a| a == cargo_multiarch::zig::HIDDEN)
    {
        let err = cargo_multiarch::zig::exec(&args[3..]);
        eprintln!("error: {err:#}");
        return ExitCode::FAILURE;
    }
    let Cargo::Multiarch(cli) = Cargo::parse();
    let shell = cli.global.shell();
    // SIGINT, SIGTERM, SIGHUP stop what this run started and exit 130, 143, 129.
    if let Err(e) = process::stop_on_signals() {
        shell.warn(format!(
            "a signal will not stop the processes this run starts: {e}"
        ));
    }
    let exit = cargo_multiarch::commands::run(cli).unwrap_or_else(|err| {
        // A failure caused by a stop is not reported: the stop decides the exit.
        process::settle();
        shell.error(format!("{err:#}"));
        Exit::of(&err)
    });
    process::settle();
    exit.into()
}
