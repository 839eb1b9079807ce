//! HTTP rules that hold for the console and the API alike.

use actix_web::{Route, guard, web};

/// A GET route that answers HEAD too, as HTTP expects: the server sends the GET's headers
/// and no body.
pub fn get_or_head() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}
