use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::error::ApiError;
use crate::db::{Db, api_tokens, now_ms};

/// "Last used" is kept to the minute: writing it on every call would put a write in front
/// of every publish.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// The API token a request was made with; its name is the actor in the audit log.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: i64,
    pub name: String,
}

impl Caller {
    pub fn actor(&self) -> String {
        format!("token:{}", self.name)
    }
}

/// When each token's "last used" was last written.
#[derive(Debug, Default)]
pub struct TokenUsage(Mutex<HashMap<i64, i64>>);

impl TokenUsage {
    fn due(&self, token_id: i64, now: i64) -> bool {
        let Ok(mut written) = self.0.lock() else {
            return false;
        };
        let recent = written
            .get(&token_id)
            .is_some_and(|last| now.saturating_sub(*last) < LAST_USED_RESOLUTION_MS);
        if recent {
            return false;
        }
        written.insert(token_id, now);
        true
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(|token| token.trim().to_owned());
        let db = request.app_data::<web::Data<Db>>().cloned();
        let usage = request.app_data::<web::Data<TokenUsage>>().cloned();
        Box::pin(async move {
            let (Some(token), Some(db)) = (token, db) else {
                return Err(ApiError::unauthorized());
            };
            let found = api_tokens::find_active(db.reader(), &token)
                .await?
                .ok_or_else(ApiError::unauthorized)?;
            let now = now_ms();
            if usage.is_some_and(|usage| usage.due(found.id, now)) {
                let mut tx = db.begin_write().await?;
                api_tokens::touch(&mut tx, found.id, now).await?;
                tx.commit().await.map_err(crate::db::StoreError::from)?;
            }
            Ok(Caller {
                token_id: found.id,
                name: found.name,
            })
        })
    }
}
