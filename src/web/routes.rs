//! Every console page with who may use it, in one table: the router is built from it, each
//! page's handler is wrapped in the guard for its own [`Access`], and the route × role test
//! walks it.
//!
//! The guard sits on the route itself, so it runs exactly when the router has chosen that
//! handler, on the path as the router decoded it: there is no second lookup that a
//! different spelling of the path could miss, and no handler without its guard. Ids are
//! written `{id:[0-9]+}`, so a segment that is no id (`1%2Fedit`) is no page either.

use actix_web::body::BoxBody;
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, Handler, HttpResponse, Responder, Route, web};

pub use super::guard::Access;
use super::guard::{guard as check_access, identify};
use crate::http::get_or_head;
use crate::web::error::AppError;

pub struct Page {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    route: Route,
}

impl Page {
    pub fn new<F, Args>(method: Method, path: &'static str, access: Access, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let route =
            method_route(&method)
                .to(handler)
                .wrap(from_fn(move |request, next: Next<BoxBody>| {
                    check_access(access, request, next)
                }));
        Self {
            method,
            path,
            access,
            route,
        }
    }
}

pub fn get<F, Args>(path: &'static str, access: Access, handler: F) -> Page
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Page::new(Method::GET, path, access, handler)
}

pub fn post<F, Args>(path: &'static str, access: Access, handler: F) -> Page
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Page::new(Method::POST, path, access, handler)
}

/// A route for `method`; a GET route answers HEAD too.
fn method_route(method: &Method) -> Route {
    if method == Method::GET {
        get_or_head()
    } else {
        web::route().method(method.clone())
    }
}

/// One resource per path, holding every method's guarded route, in the table's order (so
/// `/settings/webhooks/new` is tried before `/settings/webhooks/{id}`). Another method at a
/// known path gets 405 and an unknown path the console's 404: error pages only, in the
/// layout of whoever asks.
pub fn register(cfg: &mut web::ServiceConfig, pages: Vec<Page>) {
    let mut paths: Vec<(&'static str, Vec<Route>)> = Vec::new();
    for page in pages {
        match paths.iter_mut().find(|(path, _)| *path == page.path) {
            Some((_, routes)) => routes.push(page.route),
            None => paths.push((page.path, vec![page.route])),
        }
    }
    for (path, routes) in paths {
        let resource = routes
            .into_iter()
            .fold(web::resource(path), actix_web::Resource::route);
        cfg.service(
            resource.default_service(web::route().to(method_not_allowed).wrap(from_fn(identify))),
        );
    }
    cfg.default_service(web::route().to(not_found).wrap(from_fn(identify)));
}

async fn method_not_allowed() -> Result<HttpResponse, AppError> {
    Err(AppError::MethodNotAllowed)
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
