use std::process::ExitCode;

use clap::Parser;
use webhook_console::config::{Cli, Command, Settings, TokenCommand, UserCommand};
use webhook_console::startup::Application;
use webhook_console::{cli, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    // Every file this process creates is its user's alone: the database and its WAL hold
    // password hashes, sessions and payloads.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    return_large_allocations_to_the_system();
    let Cli { settings, command } = Cli::parse();
    telemetry::init();
    match command {
        None => serve(settings).await,
        Some(Command::User {
            action: UserCommand::Create { email, role },
        }) => {
            let stdin = std::io::stdin().lock();
            report(
                cli::create_user(&settings, &email, &role, stdin).await,
                |message| eprintln!("{message}"),
            )
        }
        Some(Command::Token {
            action: TokenCommand::Create { name, account },
        }) => report(
            cli::create_token(&settings, &name, account.as_deref()).await,
            |token| {
                // The token alone, so scripts can capture it.
                println!("{token}")
            },
        ),
        Some(Command::Backup { to }) => {
            report(cli::backup(&settings, &to).await, |done| println!("{done}"))
        }
        Some(Command::MigrateTo { from }) => {
            report(cli::migrate_to(&settings, &from).await, |report| {
                println!("{report}")
            })
        }
    }
}

fn report(outcome: Result<String, cli::CliError>, show: impl Fn(&str)) -> ExitCode {
    match outcome {
        Ok(output) => {
            show(&output);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {}", telemetry::error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> ExitCode {
    let application = match Application::build(settings).await {
        Ok(application) => application,
        Err(error) => {
            tracing::error!("could not start: {}", telemetry::error_chain(&error));
            return ExitCode::FAILURE;
        }
    };
    if let Some(link) = application.setup_link() {
        // The one line a new installation needs; on standard output, not in the logs.
        println!("No users yet. Create the first admin (this link works once): {link}");
    }
    match application.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("server stopped with an error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Large allocations (an Argon2 hash takes 19 MiB) get their own mapping and are handed
/// back to the system when freed. glibc otherwise raises this threshold after the first
/// such free and keeps later ones in per-thread arenas, so a burst of sign-ins would leave
/// the process hundreds of MiB larger for good.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_allocations_to_the_system() {
    /// Far above any request body or page, far below a password hash.
    const LARGE_ALLOCATION_BYTES: libc::c_int = 4 << 20;
    // SAFETY: mallopt only changes the allocator's tuning, under the allocator's own lock.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_ALLOCATION_BYTES);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_allocations_to_the_system() {}
