//! Page-number pagination shared by every list.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// `?page=&per_page=` (1-based; at most 500 per page).
#[derive(Debug, Clone, Copy, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    #[validate(range(min = 1, max = 1_000_000))]
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Items per page, 1–500 (default 50).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

impl PageQuery {
    /// Page number (from 1).
    pub fn page(&self) -> u64 {
        self.page.unwrap_or(1)
    }

    /// Items per page.
    pub fn per_page(&self) -> u64 {
        self.per_page.unwrap_or(50)
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        (self.page() - 1).saturating_mul(self.per_page())
    }
}

/// One page of a list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Page number.
    pub page: u64,
    /// Items per page.
    pub per_page: u64,
    /// Items in the whole list.
    pub total: u64,
}

impl<T> Page<T> {
    /// Wraps a page of items.
    pub fn new(items: Vec<T>, q: &PageQuery, total: u64) -> Self {
        Page {
            items,
            page: q.page(),
            per_page: q.per_page(),
            total,
        }
    }
}

/// Deserialises a field that may be absent (leave unchanged), `null` (clear) or a value.
pub fn patch_field<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
