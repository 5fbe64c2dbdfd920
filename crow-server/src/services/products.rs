//! Product service: the catalogue, crawler jobs (`/crawler-jobs`), image analysis, vector search.
//!
//! Not built yet (the product-catalogue issue fills it in): it answers `/health` and `/ready` only.

use axum::Router;

use crate::app::AppState;

pub(super) fn router(_state: &AppState) -> Router<AppState> {
    crate::http::probes::service_routes(super::ServiceName::Products)
}
