//! Builds the server and stops it in order: the database, the first-run link, the
//! background tasks, the HTTP server; on shutdown the HTTP server stops taking requests,
//! the ingest writer stores what was acknowledged, background tasks drain on the one
//! cancellation token, and only then does the database close.

mod body_deadline;
mod server;

use server::serve;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::web;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::actions::{self, Actor, Inbox};
use crate::api_tokens::TokenCache;
use crate::config::Settings;
use crate::db::{Db, StoreError, users, webhooks};
use crate::delivery;
use crate::delivery::retry::RetrySchedule;
use crate::domain::{Email, MaxWebhooksPerAccount, Password};
use crate::ingest::Ingestor;
use crate::metrics::Metrics;
use crate::secret_key::{KeyError, MasterKey};
use crate::secrets::secret_box::SecretBox;
use crate::secrets::token::random_token;
use crate::web::client::TrustedProxies;
use crate::web::sign_in::SetupToken;
use body_deadline::BodyTimeout;

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
    /// Cancelled after the HTTP server and the ingest writer stopped: background work drains.
    shutdown: CancellationToken,
    /// Ends once the delivery engine finished its sends and wrote their outcomes.
    engine: JoinHandle<()>,
    setup_link: Option<String>,
    /// Where fresh work is handed to the engine, and the engine woken.
    inbox: Inbox,
}

/// What every worker of the HTTP server shares.
#[derive(Clone)]
struct Shared {
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    setup: web::Data<SetupToken>,
    ingestor: web::Data<Ingestor>,
    token_cache: web::Data<TokenCache>,
    metrics: web::Data<Metrics>,
    engine_health: web::Data<delivery::Health>,
    engine_inbox: web::Data<actions::Inbox>,
    trusted_proxies: web::Data<TrustedProxies>,
    retry_schedule: web::Data<RetrySchedule>,
    webhook_limit: web::Data<MaxWebhooksPerAccount>,
    body_timeout: BodyTimeout,
}

impl Application {
    /// Opens the database, applies migrations, makes sure there is a way to the first
    /// admin, and binds the listener; nothing is served until [`Application::run_until_stopped`].
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let db = Db::open_waiting(&settings.database_url, *settings.database_wait)
            .await?
            .with_clock(settings.clock.clone());
        let key = MasterKey::load(settings.secret_key.as_ref(), &settings.database_url)?;
        let listener = TcpListener::bind(&settings.listen).map_err(listen_error(&settings))?;
        let port = listener
            .local_addr()
            .map_err(listen_error(&settings))?
            .port();
        let setup_token = first_admin(&db, &settings).await?;
        let setup_link = setup_token
            .as_ref()
            .map(|token| setup_link(&settings, port, token));
        let secrets = key.secret_box();
        backfill_signing_secrets(&db, &secrets).await?;
        let shutdown = CancellationToken::new();
        tokio::spawn(db.clone().keep_watch(shutdown.clone()));
        let metrics = Metrics::default();
        let engine = delivery::start(
            db.clone(),
            secrets.clone(),
            settings.delivery(),
            metrics.clone(),
            shutdown.clone(),
        );
        let (ingestor, ingest_writer) =
            Ingestor::start(db.clone(), engine.inbox.clone(), metrics.clone());
        let shared = Shared {
            db: web::Data::new(db.clone()),
            secrets: web::Data::new(secrets),
            setup: web::Data::new(SetupToken::new(setup_token)),
            ingestor: web::Data::new(ingestor),
            token_cache: web::Data::new(TokenCache::default()),
            metrics: web::Data::new(metrics),
            engine_health: web::Data::new(engine.health.clone()),
            engine_inbox: web::Data::new(engine.inbox.clone()),
            trusted_proxies: web::Data::new(TrustedProxies(settings.trusted_proxies.clone())),
            retry_schedule: web::Data::new(settings.retry_schedule.clone()),
            webhook_limit: web::Data::new(MaxWebhooksPerAccount(settings.max_webhooks_per_account)),
            body_timeout: BodyTimeout(*settings.request_body_timeout),
        };
        let server = serve(listener, shared, &settings, key.cookie_key())
            .map_err(listen_error(&settings))?;
        tracing::info!("Webhook Console listening on http://{}", settings.listen);
        Ok(Self {
            port,
            server,
            db,
            ingest_writer,
            shutdown,
            engine: engine.stopped,
            setup_link,
            inbox: engine.inbox,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The delivery engine's inbox: [`Inbox::due_now`] makes it look for due work at once,
    /// as after a clock handed in through the settings moved ahead.
    pub fn inbox(&self) -> Inbox {
        self.inbox.clone()
    }

    /// The one-time link to create the first admin, while there is no user.
    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    /// Serves until SIGINT or SIGTERM, then stops in order (see the module's notes).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        // The server's workers held the last senders: the writer finishes what it has
        // and ends, so every publish that was answered is on disk before the pool closes.
        if let Err(error) = self.ingest_writer.await {
            tracing::error!("the ingest writer stopped abnormally: {error}");
        }
        self.shutdown.cancel();
        if let Err(error) = self.engine.await {
            tracing::error!("the delivery engine stopped abnormally: {error}");
        }
        self.db.close().await;
        result
    }
}

fn listen_error(settings: &Settings) -> impl Fn(std::io::Error) -> StartupError + '_ {
    |source| StartupError::Listen {
        address: settings.listen.clone(),
        source,
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
    let invalid = |e: validator::ValidationError| StartupError::FirstAdmin(e.to_string());
    let email = Email::parse(email).map_err(invalid)?;
    let password = Password::parse(password.expose()).map_err(invalid)?;
    let how = "from WEBHOOK_CONSOLE_ADMIN_EMAIL";
    if actions::users::create_first_admin(db, &Actor::System, &email, password, how)
        .await?
        .is_some()
    {
        tracing::info!("created the first admin {email} from the environment");
    }
    Ok(None)
}

fn setup_link(settings: &Settings, port: u16, token: &str) -> String {
    let base = settings.public_url.clone().unwrap_or_else(|| {
        let host = settings
            .listen
            .rsplit_once(':')
            .map_or("127.0.0.1", |(host, _)| host);
        format!("http://{host}:{port}")
    });
    format!("{}/setup?token={token}", base.trim_end_matches('/'))
}

/// Webhooks created before signing existed get a secret of their own.
async fn backfill_signing_secrets(db: &Db, secrets: &SecretBox) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    webhooks::backfill_signing_secrets(&mut tx, secrets).await?;
    tx.commit().await?;
    Ok(())
}
