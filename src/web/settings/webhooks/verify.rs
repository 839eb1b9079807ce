//! "Check a request" (SPEC §2.5): support or an admin pastes what a receiver got and learns
//! whether this webhook's secret signed it, or which check fails. The secret is used here
//! and never shown.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::super::Tab;
use crate::clock::Timestamp;
use crate::db::{Db, StoreError, webhooks};
use crate::delivery::signature::{self, Finding, Received, SigningKey};
use crate::secrets::secret_box::SecretBox;
use crate::web::error::AppError;
use crate::web::layout::Layout;
use crate::web::{HtmlForm, render};

/// Receivers following Standard Webhooks refuse a timestamp further than this from their
/// clock, against replays.
const TOLERANCE_SECONDS: i64 = 5 * 60;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequestInput {
    webhook_id: String,
    webhook_timestamp: String,
    webhook_signature: String,
    body: String,
}

#[derive(Template)]
#[template(path = "settings/webhooks/verify.html")]
struct VerifyPage {
    layout: Layout,
    title: String,
    tab: Tab,
    webhook_id: i64,
    webhook_name: String,
    input: RequestInput,
    missing: Vec<&'static str>,
    verdict: Option<Verdict>,
}

/// The answer, in words: whether the request is genuine, and why not.
struct Verdict {
    genuine: bool,
    headline: String,
    details: Vec<String>,
}

pub async fn form(
    db: web::Data<Db>,
    layout: Layout,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let webhook = webhooks::find(db.reader(), id.into_inner(), db.now()).await?;
    page(
        StatusCode::OK,
        layout,
        webhook.id,
        webhook.name,
        RequestInput::default(),
        Vec::new(),
        None,
    )
}

pub async fn check(
    db: web::Data<Db>,
    secrets: web::Data<SecretBox>,
    layout: Layout,
    id: web::Path<i64>,
    HtmlForm(input): HtmlForm<RequestInput>,
) -> Result<HttpResponse, AppError> {
    let now = db.now();
    let webhook = webhooks::find(db.reader(), id.into_inner(), now).await?;
    let missing = missing_fields(&input);
    if !missing.is_empty() {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            layout,
            webhook.id,
            webhook.name,
            input,
            missing,
            None,
        );
    }
    let (current, previous) = signing_keys(&db, &secrets, webhook.id).await?;
    let finding = signature::check(
        &Received {
            id: &input.webhook_id,
            timestamp: &input.webhook_timestamp,
            signature: &input.webhook_signature,
            body: &input.body,
        },
        &current,
        previous.as_ref().map(|(key, until)| (key, *until)),
    );
    let verdict = Verdict::of(&finding, now);
    page(
        StatusCode::OK,
        layout,
        webhook.id,
        webhook.name,
        input,
        Vec::new(),
        Some(verdict),
    )
}

/// The parts of the request left empty, by name.
fn missing_fields(input: &RequestInput) -> Vec<&'static str> {
    [
        ("webhook-id", &input.webhook_id),
        ("webhook-timestamp", &input.webhook_timestamp),
        ("webhook-signature", &input.webhook_signature),
        ("body", &input.body),
    ]
    .into_iter()
    .filter(|(_, value)| value.trim().is_empty())
    .map(|(name, _)| name)
    .collect()
}

/// The webhook's signing key, and the one a rotation replaced with when it stops signing.
async fn signing_keys(
    db: &Db,
    secrets: &SecretBox,
    webhook_id: i64,
) -> Result<(SigningKey, Option<(SigningKey, Timestamp)>), AppError> {
    let stored = webhooks::signing_secrets(db.reader(), secrets, webhook_id).await?;
    // A stored secret that does not read is a storage fault, not the visitor's.
    let key = |secret: &str| {
        SigningKey::parse(secret)
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
    };
    let previous = match &stored.previous {
        Some((secret, until)) => Some((key(secret)?, *until)),
        None => None,
    };
    Ok((key(&stored.current)?, previous))
}

fn page(
    status: StatusCode,
    layout: Layout,
    webhook_id: i64,
    webhook_name: String,
    input: RequestInput,
    missing: Vec<&'static str>,
    verdict: Option<Verdict>,
) -> Result<HttpResponse, AppError> {
    render(
        status,
        &VerifyPage {
            layout,
            title: format!("Check a request to {webhook_name}"),
            tab: Tab::Webhooks,
            webhook_id,
            webhook_name,
            input,
            missing,
            verdict,
        },
    )
}

impl Verdict {
    fn of(finding: &Finding, now: Timestamp) -> Self {
        match finding {
            Finding::Genuine {
                sent_at,
                previous_until,
                line_endings,
            } => Self::genuine(*sent_at, *previous_until, *line_endings, now),
            Finding::NoMatch => Self {
                genuine: false,
                headline: "Not genuine: the signature does not match.".into(),
                details: vec![
                    "None of this webhook's secrets signs this webhook-id, webhook-timestamp and \
                     body into that signature. Check that the body is exactly the bytes received \
                     (a changed space breaks it), that the headers belong to this request, and \
                     that it was sent to this webhook."
                        .into(),
                ],
            },
            Finding::NoSignature => Self {
                genuine: false,
                headline: "Not genuine: there is no v1 signature.".into(),
                details: vec![
                    "A webhook-signature holds one or more “v1,<base64>” values separated by spaces."
                        .into(),
                ],
            },
            Finding::BadTimestamp => Self {
                genuine: false,
                headline: "The webhook-timestamp cannot be read.".into(),
                details: vec!["It is whole seconds since 1970, like 1733475600.".into()],
            },
        }
    }

    /// A signature this webhook's secret made, and what still makes a receiver refuse it.
    fn genuine(
        sent_at: Timestamp,
        previous_until: Option<Timestamp>,
        line_endings: bool,
        now: Timestamp,
    ) -> Self {
        let mut details = Vec::new();
        let mut genuine = true;
        if let Some(until) = previous_until {
            if until <= sent_at {
                genuine = false;
                details.push(format!(
                    "It was signed with the secret that a rotation replaced, after that \
                     secret stopped signing ({}): it was not sent by this console.",
                    until.absolute()
                ));
            } else {
                details.push(format!(
                    "It was signed with the previous secret, which signs beside the new \
                     one until {}. Receivers should switch to the new secret before then.",
                    until.absolute()
                ));
            }
        }
        let age_seconds = sent_at.until(now).as_secs() as i64;
        let ahead_seconds = now.until(sent_at).as_secs() as i64;
        if age_seconds.max(ahead_seconds) > TOLERANCE_SECONDS {
            details.push(format!(
                "Its timestamp ({}) is more than 5 minutes from now, so a receiver that \
                 checks the timestamp, as the Standard Webhooks libraries do, refuses it \
                 as a possible replay.",
                sent_at.absolute()
            ));
        }
        if line_endings {
            details.push(
                "It matches once the pasted body's line endings are read as \\n: receivers \
                 must verify the raw bytes they got."
                    .into(),
            );
        }
        let headline = match genuine {
            true => format!(
                "Genuine: this webhook's secret signed it, sent {}.",
                sent_at.absolute()
            ),
            false => "Not genuine.".into(),
        };
        Self {
            genuine,
            headline,
            details,
        }
    }
}
