//! One pager for every list: the console's tables and the API's pages.

/// Rows per page of a list: a screenful in the console, a sensible batch for the API.
pub const PAGE_SIZE: i64 = 25;
/// Audit entries are one line each and read in runs: twice as many per page.
pub const LOG_PAGE_SIZE: i64 = 50;

/// Which rows of a list to show: page `number` (1-based) of `size` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pager {
    number: i64,
    size: i64,
}

impl Pager {
    /// Page `number`; anything below 1 is the first.
    pub fn new(number: i64, size: i64) -> Self {
        Self {
            number: number.max(1),
            size,
        }
    }

    /// What a `?page=` asks for: anything that is not a number asks for the first page.
    pub fn parse(requested: &str, size: i64) -> Self {
        Self::new(requested.trim().parse().unwrap_or(1), size)
    }

    /// The same page, kept within the pages `total` rows fill (there is always one).
    pub fn within(self, total: i64) -> Self {
        Self::new(self.number.min(Self::pages(total, self.size)), self.size)
    }

    /// How many pages `total` rows fill; an empty list still has its one page.
    pub fn pages(total: i64, size: i64) -> i64 {
        ((total + size - 1) / size).max(1)
    }

    pub fn number(self) -> i64 {
        self.number
    }

    pub fn size(self) -> i64 {
        self.size
    }

    pub fn offset(self) -> i64 {
        (self.number - 1).saturating_mul(self.size)
    }

    pub fn limit(self) -> i64 {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_kept_within_the_list() {
        assert_eq!(Pager::parse("x", 25).number(), 1);
        assert_eq!(Pager::parse("-3", 25).number(), 1);
        assert_eq!(Pager::parse("9", 25).within(51).number(), 3);
        assert_eq!(Pager::parse("2", 25).within(0).number(), 1);
        assert_eq!(Pager::parse("3", 25).offset(), 50);
    }
}
