use std::process::ExitCode;

use cargo_multiarch::cli::Cargo;
use clap::Parser as _;

fn main() -> ExitCode {
    let Cargo::Multiarch(cli) = Cargo::parse();
    let shell = cargo_multiarch::shell::Shell::new(&cli.global);
    match cargo_multiarch::run(cli) {
        Ok(code) => code,
        Err(err) => {
            shell.error(format!("{err:#}"));
            ExitCode::FAILURE
        }
    }
}
