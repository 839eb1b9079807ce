//! The pager's links under every paged list, built from the one [`Pager`].

use crate::domain::paging::Pager;

/// Previous and next, the first and last page and two on each side of the current one.
#[derive(Debug, Clone)]
pub struct Pagination {
    pub previous_href: Option<String>,
    pub next_href: Option<String>,
    pub pages: Vec<PageLink>,
    /// Words of the step links, e.g. "← Newer" for a log read newest first.
    pub previous_label: &'static str,
    pub next_label: &'static str,
    /// With htmx, following a link swaps only this element.
    pub hx_target: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct PageLink {
    pub number: i64,
    pub href: String,
    pub current: bool,
    /// Pages were skipped before this link.
    pub gap_before: bool,
}

impl Pagination {
    /// `href` gives the address of a page number, with the list's other parameters kept.
    pub fn new(pager: Pager, total: i64, href: impl Fn(i64) -> String) -> Self {
        let page = pager.number();
        let pages = Pager::pages(total, pager.size());
        Self {
            previous_href: (page > 1).then(|| href(page - 1)),
            next_href: (page < pages).then(|| href(page + 1)),
            pages: page_numbers(page, pages)
                .into_iter()
                .scan(0, |previous, number| {
                    let link = PageLink {
                        number,
                        href: href(number),
                        current: number == page,
                        gap_before: number > *previous + 1 && *previous > 0,
                    };
                    *previous = number;
                    Some(link)
                })
                .collect(),
            previous_label: "← Previous",
            next_label: "Next →",
            hx_target: None,
        }
    }

    /// Only a step each way, for lists read from a position rather than by page number.
    pub fn steps(previous_href: Option<String>, next_href: Option<String>) -> Self {
        Self {
            previous_href,
            next_href,
            pages: Vec::new(),
            previous_label: "← Previous",
            next_label: "Next →",
            hx_target: None,
        }
    }

    pub fn swapping(self, hx_target: &'static str) -> Self {
        Self {
            hx_target: Some(hx_target),
            ..self
        }
    }

    pub fn labelled(self, previous_label: &'static str, next_label: &'static str) -> Self {
        Self {
            previous_label,
            next_label,
            ..self
        }
    }

    /// One page only: no pager is shown.
    pub fn is_single(&self) -> bool {
        self.previous_href.is_none() && self.next_href.is_none()
    }
}

fn page_numbers(page: i64, pages: i64) -> Vec<i64> {
    let mut numbers: Vec<i64> = [1, pages]
        .into_iter()
        .chain((page - 2).max(1)..=(page + 2).min(pages))
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_keep_the_ends_and_the_neighbourhood() {
        assert_eq!(page_numbers(1, 1), vec![1]);
        assert_eq!(page_numbers(1, 10), vec![1, 2, 3, 10]);
        assert_eq!(
            page_numbers(200, 400),
            vec![1, 198, 199, 200, 201, 202, 400]
        );
    }
}
