use std::process::ExitCode;

use clap::Parser;
use webhook_console::{config::Settings, startup::Application, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let settings = Settings::parse();
    telemetry::init();
    let application = match Application::build(settings).await {
        Ok(application) => application,
        Err(error) => {
            tracing::error!("could not start: {}", telemetry::error_chain(&error));
            return ExitCode::FAILURE;
        }
    };
    match application.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("server stopped with an error: {error}");
            ExitCode::FAILURE
        }
    }
}
