//! The HTTP server: its middleware, from the outside in, and its routes.

use super::Shared;
use super::body_deadline::body_deadline;
use crate::api;
use crate::config::Settings;
use crate::db::sessions::DbSessionStore;
use crate::web as console;
use crate::web::error::render_error_page;
use crate::web::session::{ActivityStep, FlashStore};
use crate::web::sign_in::KnownBrowsers;
use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, TtlExtensionPolicy};
use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use actix_web_flash_messages::FlashMessagesFramework;
use std::net::TcpListener;
use tracing_actix_web::TracingLogger;

/// The HTTP server: middleware from the outside in, then health, API and console routes.
pub(super) fn serve(
    listener: TcpListener,
    shared: Shared,
    settings: &Settings,
    cookie_key: Key,
) -> std::io::Result<Server> {
    let sessions = SessionSettings {
        store: DbSessionStore::new(shared.db.get_ref().clone()),
        key: cookie_key,
        secure: settings.is_https(),
        idle: CookieDuration::try_from(*settings.session_idle_timeout)
            .unwrap_or(CookieDuration::hours(8)),
    };
    let activity_step = ActivityStep::for_idle_timeout(*settings.session_idle_timeout);
    let known_browsers = web::Data::new(KnownBrowsers::new(
        sessions.key.clone(),
        settings.is_https(),
    ));
    Ok(HttpServer::new(move || {
        let flashes = FlashMessagesFramework::builder(FlashStore::default()).build();
        App::new()
            .wrap(from_fn(body_deadline))
            .wrap(ErrorHandlers::new().default_handler(render_error_page))
            .wrap(flashes)
            .wrap(sessions.middleware())
            .wrap(from_fn(console::outage::database_outage))
            .wrap(security_headers())
            .wrap(TracingLogger::default())
            .app_data(shared.body_timeout)
            .app_data(activity_step)
            .app_data(shared.db.clone())
            .app_data(shared.secrets.clone())
            .app_data(shared.setup.clone())
            .app_data(shared.ingestor.clone())
            .app_data(shared.token_cache.clone())
            .app_data(shared.metrics.clone())
            .app_data(shared.engine_health.clone())
            .app_data(shared.engine_inbox.clone())
            .app_data(shared.trusted_proxies.clone())
            .app_data(known_browsers.clone())
            .app_data(shared.retry_schedule.clone())
            .app_data(shared.webhook_limit.clone())
            .configure(console::public)
            .configure(api::routes)
            .configure(console::pages)
    })
    .listen(listener)?
    .run())
}

#[derive(Clone)]
struct SessionSettings {
    store: DbSessionStore,
    key: Key,
    secure: bool,
    idle: CookieDuration,
}

impl SessionSettings {
    fn middleware(&self) -> SessionMiddleware<DbSessionStore> {
        SessionMiddleware::builder(self.store.clone(), self.key.clone())
            // `__Host-` makes browsers refuse the cookie unless it is Secure, host-only
            // and for the whole site.
            .cookie_name(
                if self.secure {
                    "__Host-wc_session"
                } else {
                    "wc_session"
                }
                .into(),
            )
            .cookie_secure(self.secure)
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Strict)
            .session_lifecycle(
                BrowserSession::default()
                    .state_ttl(self.idle)
                    // Extended when the guard notes activity: a live refresh is not activity.
                    .state_ttl_extension_policy(TtlExtensionPolicy::OnStateChanges),
            )
            .build()
    }
}

/// [`console::SECURITY_HEADERS`] on every answer that does not set its own.
fn security_headers() -> DefaultHeaders {
    console::SECURITY_HEADERS
        .into_iter()
        .fold(DefaultHeaders::new(), |headers, header| headers.add(header))
}
