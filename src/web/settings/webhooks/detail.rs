use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::super::Tab;
use super::chart::HourlyChart;
use super::log::{DeliveryLog, LogQuery};
use super::secret::{self, SecretField};
use super::view::{self, Badge, Outcome, Waiting};
use crate::db::webhooks::Webhook;
use crate::db::{Db, deliveries, webhooks};
use crate::delivery::retry::RetrySchedule;
use crate::secrets::secret_box::SecretBox;
use crate::web::error::AppError;
use crate::web::session::UserSession;
use crate::web::{layout::Layout, render};

#[derive(Template)]
#[template(path = "settings/webhooks/detail.html")]
struct DetailPage {
    layout: Layout,
    title: String,
    tab: Tab,
    webhook: Webhook,
    status: Badge,
    /// Why deliveries wait: Failing (with the next probe) or paused by the receiver.
    waiting: Waiting,
    events: Vec<String>,
    api_key: Option<String>,
    /// Name and value as this viewer may see it (secret values masked or hidden).
    custom_headers: Vec<(String, String)>,
    created_at: String,
    updated_at: String,
    last_delivery: Option<Outcome>,
    success_rate: String,
    chart: HourlyChart,
    log: DeliveryLog,
    /// Admins only: the signing secret, hidden until Reveal.
    secret_field: Option<SecretField>,
    /// A secret just made by Create or Rotate, shown this once.
    new_secret: Option<String>,
}

pub async fn show(
    db: web::Data<Db>,
    tries: web::Data<RetrySchedule>,
    secrets: web::Data<SecretBox>,
    session: UserSession,
    layout: Layout,
    id: web::Path<i64>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let now = db.now();
    let webhook = webhooks::find(db.reader(), id, now).await?;
    let api_key = view::shown_api_key(
        webhooks::api_key(db.reader(), &secrets, id).await?,
        layout.is_admin(),
    );
    let is_admin = layout.is_admin();
    let custom_headers = view::shown_headers(&db, &secrets, &webhook, is_admin).await?;
    let page = DetailPage {
        custom_headers,
        secret_field: is_admin.then(|| SecretField {
            webhook_id: id,
            secret: None,
            csrf_token: layout.csrf_token.clone(),
        }),
        new_secret: is_admin
            .then(|| secret::take_new_secret(&session, &secrets, id))
            .flatten(),
        layout,
        title: webhook.name.clone(),
        tab: Tab::Webhooks,
        status: Badge::webhook(&webhook),
        waiting: if webhook.status.is_active() {
            let last_failed = match webhook.failing {
                Some(_) => deliveries::newest_failed_try(db.reader(), id).await?,
                None => None,
            };
            view::waiting_reason(&webhook, last_failed, now)
        } else {
            Waiting::No
        },
        events: view::event_keys(&webhook.events),
        api_key,
        created_at: webhook.created_at.absolute(),
        updated_at: webhook.updated_at.absolute(),
        last_delivery: webhook
            .last_delivery
            .as_ref()
            .map(|last| Outcome::of(last, now)),
        success_rate: view::success_rate(webhook.succeeded_24h, webhook.failed_24h),
        chart: HourlyChart::of(
            &webhooks::hourly_outcomes(db.reader(), id, HourlyChart::first_hour(now)).await?,
            now,
        ),
        log: DeliveryLog::load(&db, &tries, id, &query, now).await?,
        webhook,
    };
    render(StatusCode::OK, &page)
}

impl DetailPage {
    fn plain_http(&self) -> bool {
        self.webhook.url.starts_with("http://")
    }
}
