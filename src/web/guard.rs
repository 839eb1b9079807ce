//! The one gate every console route passes: it checks the CSRF token of every request
//! that could change something, finds the signed-in user, and applies the route's
//! [`Access`]. The route table (`routes.rs`) puts it on every route; handlers never check
//! roles.

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::db::{Db, StoreError, users};
use crate::web::error::AppError;
use crate::web::htmx::Htmx;
use crate::web::session::{
    ActivityStep, CurrentUser, LIVE_REFRESH_HEADER, SessionWriteFailed, UserSession,
};

/// Who may use a route. Every route names one; there is no default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Signed out too: sign-in and first-run setup.
    Public,
    /// Any signed-in user, support staff included: pages that only show.
    SignedIn,
    /// Admins only: everything that changes something, and the pages that lead to it.
    Admin,
}

/// The guard of one route, which the router has already chosen: CSRF for anything that
/// could change something, then the route's `access`.
pub async fn guard(
    access: Access,
    mut request: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    if !is_safe(request.method())
        && let Err(error) = check_csrf(&mut request).await
    {
        return Ok(request.error_response(error).map_into_right_body());
    }
    if access == Access::Public {
        return Ok(next.call(request).await?.map_into_left_body());
    }
    let user = match signed_in_user(&request).await {
        Ok(user) => user,
        Err(error) => return Ok(request.error_response(error).map_into_right_body()),
    };
    let Some(user) = user else {
        let htmx = Htmx::from_headers(request.headers());
        let response = htmx.redirect(&sign_in_path(&request));
        return Ok(request.into_response(response).map_into_right_body());
    };
    if access == Access::Admin && !user.is_admin() {
        // The refusal is shown in the reader's own frame: header, menu, Sign out.
        request.extensions_mut().insert(user);
        return Ok(request
            .error_response(AppError::Forbidden)
            .map_into_right_body());
    }
    if !request.headers().contains_key(LIVE_REFRESH_HEADER)
        && let Some(step) = request.app_data::<ActivityStep>()
        && let Some(db) = request.app_data::<web::Data<Db>>()
    {
        UserSession::of(request.request()).note_activity(*step, db.now());
    }
    request.extensions_mut().insert(user);
    Ok(next.call(request).await?.map_into_left_body())
}

/// For the fallbacks that only answer an error (unknown path, other method): who asks, so
/// the error page shows their frame. It decides nothing and lets nothing through.
pub async fn identify(
    request: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Ok(Some(user)) = signed_in_user(&request).await {
        request.extensions_mut().insert(user);
    }
    next.call(request).await
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The user of the session, as the database knows them now: a changed role or a disabled
/// account takes effect on the next request.
async fn signed_in_user(request: &ServiceRequest) -> Result<Option<CurrentUser>, AppError> {
    let session = UserSession::of(request.request());
    let Some(user_id) = session.user_id() else {
        return Ok(None);
    };
    // Without the database no session can be checked: fail closed.
    let db = request
        .app_data::<web::Data<Db>>()
        .ok_or(AppError::Session(SessionWriteFailed))?;
    match users::find(db.reader(), user_id).await {
        Ok(user) if !user.disabled => Ok(Some(CurrentUser {
            id: user.id,
            email: user.email,
            role: user.role,
        })),
        Ok(_) | Err(StoreError::NotFound) => {
            session.sign_out();
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

/// Where to sign in, and to come back to afterwards. Only a page is worth coming back to.
fn sign_in_path(request: &ServiceRequest) -> String {
    let back = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    if matches!(*request.method(), Method::GET | Method::HEAD) && back != "/" {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", back)
            .finish();
        format!("/login?{query}")
    } else {
        "/login".to_owned()
    }
}

#[derive(Deserialize)]
struct CsrfField {
    csrf_token: Option<String>,
}

/// The synchronizer token from the `X-CSRF-Token` header (htmx sends it) or the form's
/// hidden `csrf_token` field must equal the session's. Browsers also say when a request
/// comes from another site; such requests are refused outright.
async fn check_csrf(request: &mut ServiceRequest) -> Result<(), AppError> {
    if request
        .headers()
        .get("Sec-Fetch-Site")
        .is_some_and(|site| site == "cross-site")
    {
        return Err(AppError::CsrfRejected);
    }
    let expected = UserSession::of(request.request())
        .existing_csrf_token()
        .ok_or(AppError::CsrfRejected)?;
    let header = request
        .headers()
        .get("X-CSRF-Token")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let provided = match header {
        Some(token) => token,
        None => form_token(request).await?.ok_or(AppError::CsrfRejected)?,
    };
    if bool::from(provided.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(AppError::CsrfRejected)
    }
}

/// Reads the form body for its token and puts it back for the handler.
async fn form_token(request: &mut ServiceRequest) -> Result<Option<String>, AppError> {
    let is_form = request
        .content_type()
        .starts_with("application/x-www-form-urlencoded");
    if !is_form {
        return Ok(None);
    }
    let body = request
        .extract::<web::Bytes>()
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let token = serde_html_form::from_bytes::<CsrfField>(&body)
        .ok()
        .and_then(|field| field.csrf_token);
    request.set_payload(Payload::from(body));
    Ok(token)
}
