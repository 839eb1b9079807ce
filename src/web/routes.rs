//! Every console page with who may use it, in one table: the guard reads it, the router is
//! built from it, and the route × role test walks it.

use std::collections::HashMap;

use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder, Route, web};

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
        Self {
            route: web::method(method.clone()).to(handler),
            method,
            path,
            access,
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

/// Who may use which (method, route pattern).
#[derive(Debug, Default)]
pub struct AccessTable(HashMap<(Method, &'static str), Access>);

impl AccessTable {
    pub fn lookup(&self, method: &Method, pattern: &str) -> Option<Access> {
        // HEAD is answered by the GET route.
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.0.get(&(method.clone(), pattern)).copied()
    }

    /// Some method is served at this route pattern.
    pub fn has_path(&self, pattern: &str) -> bool {
        self.0.keys().any(|(_, path)| *path == pattern)
    }
}

impl From<&Vec<Page>> for AccessTable {
    fn from(pages: &Vec<Page>) -> Self {
        Self(
            pages
                .iter()
                .map(|page| ((page.method.clone(), page.path), page.access))
                .collect(),
        )
    }
}

pub fn register(cfg: &mut web::ServiceConfig, pages: Vec<Page>) {
    for page in pages {
        cfg.route(page.path, page.route);
    }
}
