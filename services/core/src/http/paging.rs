//! Pages of long lists, newest first, by a cursor: `?before=<id>&limit=<n>`. A cursor stays
//! right while new entries arrive, where an offset would shift.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::Error;

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
pub const MAX_LIMIT: u32 = 200;

/// The query of a paged list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Only entries older than this id (the `next_before` of the previous page).
    pub before: Option<i64>,
    /// At most this many entries (1-200; 50 when absent).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

impl PageQuery {
    /// The page size, checked.
    pub fn limit(&self) -> Result<i64, Error> {
        match self.limit.unwrap_or(DEFAULT_LIMIT) {
            n @ 1..=MAX_LIMIT => Ok(i64::from(n)),
            n => Err(Error::invalid(
                "limit",
                format!("must be from 1 to {MAX_LIMIT} (got {n})"),
            )),
        }
    }

    /// Cuts `rows` (fetched with a limit one more than [`Self::limit`], newest first) to the
    /// page, and the cursor of the next page when there is one.
    pub fn page<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<i64>) {
        let limit = self.limit().unwrap_or(i64::from(DEFAULT_LIMIT)) as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more { rows.last().map(&id) } else { None };
        (rows, next)
    }
}
