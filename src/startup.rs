use std::net::TcpListener;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, TtlExtensionPolicy};
use actix_web::cookie::SameSite;
use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use actix_web_flash_messages::FlashMessagesFramework;
use actix_web_flash_messages::storage::SessionMessageStore;
use tracing_actix_web::TracingLogger;

use crate::api;
use crate::api_tokens::TokenCache;
use crate::config::Settings;
use crate::db::audit::NewEntry;
use crate::db::sessions::SqliteSessionStore;
use crate::db::{Db, StoreError, users, webhooks};
use crate::domain::{AuditAction, Email, Password, Role};
use crate::http::{BodyTimeout, body_deadline};
use crate::ingest::Ingestor;
use crate::password::hash_password;
use crate::secret_key::{KeyError, MasterKey};
use crate::token::random_token;
use crate::web as console;
use crate::web::error::render_error_page;
use crate::web::sign_in::SetupToken;
use tokio::task::JoinHandle;

/// The setup link's token: 192 bits, used once.
const SETUP_TOKEN_BYTES: usize = 24;

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
    #[error("the first admin from WEBHOOK_CONSOLE_ADMIN_EMAIL/_PASSWORD is invalid: {0}")]
    FirstAdmin(String),
}

pub struct Application {
    port: u16,
    server: Server,
    db: Db,
    ingest_writer: JoinHandle<()>,
    setup_link: Option<String>,
}

impl Application {
    /// Opens the database, applies migrations, makes sure there is a way to the first
    /// admin, and binds the listener; nothing is served until [`Application::run_until_stopped`].
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let db = Db::open(&settings.database_url).await?;
        let key = MasterKey::load(settings.secret_key.as_ref(), &settings.database_url)?;
        let listen_error = |source| StartupError::Listen {
            address: settings.listen.clone(),
            source,
        };
        let listener = TcpListener::bind(&settings.listen).map_err(listen_error)?;
        let port = listener.local_addr().map_err(listen_error)?.port();

        let setup_token = first_admin(&db, &settings).await?;
        let secret_box = key.secret_box();
        let mut tx = db.begin_write().await?;
        webhooks::backfill_signing_secrets(&mut tx, &secret_box).await?;
        tx.commit().await.map_err(StoreError::from)?;
        let (ingestor, ingest_writer) = Ingestor::start(db.clone());
        let setup_link = setup_token.as_ref().map(|token| {
            let base = settings.public_url.clone().unwrap_or_else(|| {
                let host = settings
                    .listen
                    .rsplit_once(':')
                    .map_or("127.0.0.1", |(host, _)| host);
                format!("http://{host}:{port}")
            });
            format!("{}/setup?token={token}", base.trim_end_matches('/'))
        });

        let cookie_key = key.cookie_key();
        let secure = settings.is_https();
        let idle = CookieDuration::try_from(*settings.session_idle_timeout)
            .unwrap_or(CookieDuration::hours(8));
        let store = SqliteSessionStore::new(db.clone());
        let data = web::Data::new(db.clone());
        let secrets = web::Data::new(secret_box);
        let ingestor = web::Data::new(ingestor);
        let token_cache = web::Data::new(TokenCache::default());
        let setup = web::Data::new(SetupToken::new(setup_token));
        let body_timeout = BodyTimeout(*settings.request_body_timeout);
        let server = HttpServer::new(move || {
            let sessions = SessionMiddleware::builder(store.clone(), cookie_key.clone())
                // `__Host-` makes browsers refuse the cookie unless it is Secure, host-only
                // and for the whole site.
                .cookie_name(
                    if secure {
                        "__Host-wc_session"
                    } else {
                        "wc_session"
                    }
                    .into(),
                )
                .cookie_secure(secure)
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Strict)
                .session_lifecycle(
                    BrowserSession::default()
                        .state_ttl(idle)
                        .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
                )
                .build();
            let flashes = FlashMessagesFramework::builder(SessionMessageStore::default()).build();
            App::new()
                .wrap(from_fn(body_deadline))
                .wrap(ErrorHandlers::new().default_handler(render_error_page))
                .wrap(flashes)
                .wrap(sessions)
                .wrap(security_headers())
                .wrap(TracingLogger::default())
                .app_data(body_timeout)
                .app_data(data.clone())
                .app_data(secrets.clone())
                .app_data(setup.clone())
                .app_data(ingestor.clone())
                .app_data(token_cache.clone())
                .configure(console::public)
                .configure(api::routes)
                .configure(console::pages)
        })
        .listen(listener)
        .map_err(listen_error)?
        .run();
        tracing::info!("Webhook Console listening on http://{}", settings.listen);
        Ok(Self {
            port,
            server,
            db,
            ingest_writer,
            setup_link,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The one-time link to create the first admin, while there is no user.
    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    /// Serves until SIGINT or SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        // The server's workers held the last senders: the writer finishes what it has
        // and ends, so every publish that was answered is on disk before the pool closes.
        if let Err(error) = self.ingest_writer.await {
            tracing::error!("the ingest writer stopped abnormally: {error}");
        }
        self.db.close().await;
        result
    }
}

/// With no user yet, creates the admin named by the environment or returns a token for the
/// one-time setup link.
async fn first_admin(db: &Db, settings: &Settings) -> Result<Option<String>, StartupError> {
    if users::count(db.reader()).await? > 0 {
        return Ok(None);
    }
    let (Some(email), Some(password)) = (&settings.admin_email, &settings.admin_password) else {
        return Ok(Some(random_token(SETUP_TOKEN_BYTES)));
    };
    let email = Email::parse(email).map_err(|e| StartupError::FirstAdmin(e.to_string()))?;
    let password =
        Password::parse(password.expose()).map_err(|e| StartupError::FirstAdmin(e.to_string()))?;
    let hash = hash_password(password).await;
    let mut tx = db.begin_write().await?;
    if users::count_in(&mut tx).await? == 0 {
        users::create(&mut tx, &email, Role::Admin, &hash).await?;
        NewEntry::new(
            "system",
            AuditAction::Setup,
            "user",
            email.as_str(),
            "first admin, from WEBHOOK_CONSOLE_ADMIN_EMAIL",
        )
        .record(&mut tx)
        .await?;
        tracing::info!("created the first admin {email} from the environment");
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(None)
}

/// htmx is configured by a meta tag, so pages need no inline script or style. Responses
/// that set their own caching (static assets) keep it; everything else is never stored.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; \
             frame-ancestors 'none'; form-action 'self'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Cache-Control", "no-store"))
}
