use std::future::{Ready, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};

use super::error::ApiError;
use crate::actions::{self, Actor};
use crate::api_tokens::TokenCache;
use crate::db::{Db, Outage, api_tokens, sha256_hex, webhooks};
use crate::domain::AccountKey;

/// The API token a request was made with; its name is the actor in the audit log.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: i64,
    pub name: String,
    /// The one account an account token reaches; none for a staff token (every account).
    pub account: Option<AccountKey>,
}

impl Caller {
    /// Who the audit log names for what this token does.
    pub fn actor(&self) -> Actor {
        Actor::ApiToken(self.name.clone())
    }

    /// The account a request acts in: the one it names, else the caller's own (`default`
    /// for a staff token). An account token naming another account is refused (403); a
    /// key no account could have is an unknown account (404).
    pub fn acting_in(&self, named: Option<&str>) -> Result<AccountKey, ApiError> {
        let named = match named {
            None => None,
            Some(raw) => match (AccountKey::parse(raw), &self.account) {
                (Ok(key), _) => Some(key),
                (Err(_), Some(_)) => return Err(ApiError::other_account()),
                (Err(_), None) => return Err(ApiError::unknown_account(raw)),
            },
        };
        match (&self.account, named) {
            (None, named) => Ok(named.unwrap_or_else(AccountKey::default_account)),
            (Some(own), None) => Ok(own.clone()),
            (Some(own), Some(named)) if named == *own => Ok(named),
            (Some(_), Some(_)) => Err(ApiError::other_account()),
        }
    }

    /// Whether objects of `account` exist for this caller: to an account token another
    /// account's objects do not (404, as if they were not there).
    pub fn sees(&self, account: &AccountKey) -> bool {
        self.account.as_ref().is_none_or(|own| own == account)
    }

    /// The accounts a list may show: the one asked for (if the caller reaches it), else
    /// the caller's own, or every account for a staff token asking for none.
    pub fn listing(&self, asked: Option<&str>) -> Result<Option<AccountKey>, ApiError> {
        // `?account=` left empty names none.
        match (asked.filter(|asked| !asked.is_empty()), &self.account) {
            (None, None) => Ok(None),
            (asked, _) => self.acting_in(asked).map(Some),
        }
    }
}

/// What [`authenticate`] found, for the handler.
impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<Caller>()
                .cloned()
                .ok_or_else(ApiError::unauthorized),
        )
    }
}

/// Decides who calls before anything else of the request is looked at: without a valid
/// token the answer is 401, whatever the path, method or body, and no body is read.
pub async fn authenticate<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    match identify(request.request()).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            Ok(next.call(request).await?.map_into_left_body())
        }
        Err(error) => {
            let (request, _) = request.into_parts();
            let answer = HttpResponse::from_error(error);
            Ok(ServiceResponse::new(request, answer).map_into_right_body())
        }
    }
}

async fn identify(request: &HttpRequest) -> Result<Caller, ApiError> {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer_token)
        .map(str::to_owned);
    let db = request.app_data::<web::Data<Db>>().cloned();
    let cache = request.app_data::<web::Data<TokenCache>>().cloned();
    let (Some(token), Some(db), Some(cache)) = (token, db, cache) else {
        return Err(ApiError::unauthorized());
    };
    // Known down: say so at once rather than after the wait.
    if let Some(outage @ Outage::Unreachable(_)) = db.outage() {
        return Err(ApiError::unavailable(&outage));
    }
    let digest = sha256_hex(&token);
    let (token_id, name, account) = match cache.get(&digest) {
        Some(verified) => verified,
        None => {
            let found = api_tokens::find_active(db.reader(), &digest)
                .await?
                .ok_or_else(ApiError::unauthorized)?;
            cache.put(digest, found.id, found.name.clone(), found.account.clone());
            (found.id, found.name, found.account)
        }
    };
    let now = db.now();
    // "Last used" is a hint: a database that cannot write it (a full disk) does not
    // refuse a request for it.
    if cache.last_used_due(token_id, now)
        && let Err(error) = actions::tokens::touch(&db, token_id, now).await
    {
        db.saw(&error);
        tracing::debug!("could not note the token's use: {error}");
    }
    Ok(Caller {
        token_id,
        name,
        account,
    })
}

/// The one place an account token's reach over webhooks is decided: every route under
/// `/webhooks/{id}` passes here first. Another account's webhook is not found, exactly as
/// one that does not exist; a staff token reaches every webhook without a read.
pub async fn webhook_in_reach<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let caller = request.extensions().get::<Caller>().cloned();
    let refusal = match caller {
        None => Some(ApiError::unauthorized()),
        Some(Caller {
            account: Some(own), ..
        }) => {
            let id: Option<i64> = request
                .match_info()
                .get("id")
                .and_then(|id| id.parse().ok());
            let db = request.app_data::<web::Data<Db>>().cloned();
            match (id, db) {
                (Some(id), Some(db)) => match webhooks::account_of(db.reader(), id).await {
                    Ok(account) => {
                        (account.as_ref() != Some(&own)).then(|| ApiError::not_found("webhook"))
                    }
                    Err(error) => Some(ApiError::from(error)),
                },
                _ => Some(ApiError::not_found("webhook")),
            }
        }
        Some(_) => None,
    };
    match refusal {
        None => Ok(next.call(request).await?.map_into_left_body()),
        Some(error) => {
            let (request, _) = request.into_parts();
            let answer = HttpResponse::from_error(error);
            Ok(ServiceResponse::new(request, answer).map_into_right_body())
        }
    }
}

/// The token of `Bearer <token>`; the scheme's name is case-insensitive (RFC 9110 §11.1).
fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_scheme_is_read_in_any_case() {
        for header in ["Bearer wc_x", "bearer wc_x", "BEARER  wc_x ", "BeArEr wc_x"] {
            assert_eq!(bearer_token(header), Some("wc_x"), "{header:?}");
        }
        for header in ["Basic wc_x", "Bearer", "Bearer ", "Bearerwc_x", "wc_x"] {
            assert_eq!(bearer_token(header), None, "{header:?}");
        }
    }
}
