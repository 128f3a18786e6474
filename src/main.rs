use std::process::ExitCode;

use cargo_multiarch::cli::Cargo;
use cargo_multiarch::output::Exit;
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
    cargo_multiarch::commands::run(cli)
        .unwrap_or_else(|err| {
            shell.error(format!("{err:#}"));
            Exit::of(&err)
        })
        .into()
}
