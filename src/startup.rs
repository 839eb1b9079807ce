use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers};
use actix_web::{App, HttpServer, web};
use actix_web_flash_messages::FlashMessagesFramework;
use actix_web_flash_messages::storage::CookieMessageStore;
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::db::{Db, StoreError};
use crate::error::render_error_page;
use crate::secret_key::{KeyError, MasterKey};
use crate::web as console;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not open the database")]
    Database(#[from] StoreError),
    #[error("could not load the secret key")]
    SecretKey(#[from] KeyError),
    #[error("could not listen on {address}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
}

pub struct Application {
    port: u16,
    server: Server,
    db: Db,
}

impl Application {
    /// Opens the database, applies migrations and binds the listener; nothing is served
    /// until [`Application::run_until_stopped`].
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let db = Db::open(&settings.database_url).await?;
        let key = MasterKey::load(settings.secret_key.as_ref(), &settings.database_url)?;
        let listener =
            TcpListener::bind(&settings.listen).map_err(|source| StartupError::Listen {
                address: settings.listen.clone(),
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Listen {
                address: settings.listen.clone(),
                source,
            })?
            .port();
        let flashes =
            FlashMessagesFramework::builder(CookieMessageStore::builder(key.cookie_key()).build())
                .build();
        let data = web::Data::new(db.clone());
        let server = HttpServer::new(move || {
            App::new()
                .wrap(ErrorHandlers::new().default_handler(render_error_page))
                .wrap(flashes.clone())
                .wrap(security_headers())
                .wrap(TracingLogger::default())
                .app_data(data.clone())
                .configure(console::public)
                .service(web::scope("").configure(console::pages))
        })
        .listen(listener)
        .map_err(|source| StartupError::Listen {
            address: settings.listen.clone(),
            source,
        })?
        .run();
        tracing::info!("Webhook Console listening on http://{}", settings.listen);
        Ok(Self { port, server, db })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.db.close().await;
        result
    }
}

/// htmx is configured by a meta tag, so pages need no inline script or style.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; \
             frame-ancestors 'none'; form-action 'self'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
}
