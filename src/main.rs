//! The `shipcrate` binary: parse the command line, run, turn the result into an exit code.

fn main() {
    if shipcrate::signals::is_watchdog() {
        shipcrate::signals::watchdog();
    }
    if shipcrate::gate::is_provider() {
        shipcrate::gate::provider();
    }
    let invocation = shipcrate::cli::parse(std::env::args_os());
    let code = match shipcrate::run(invocation) {
        Ok(()) => 0,
        Err(error) => shipcrate::error::exit_code(&error),
    };
    std::process::exit(code);
}
