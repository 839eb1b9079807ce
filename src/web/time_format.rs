use time::OffsetDateTime;
use time::macros::format_description;

/// "27 Nov 2026, 14:05 UTC": the console shows UTC, the time zone of the logs.
pub fn absolute(unix_ms: i64) -> String {
    let format =
        format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(format).ok())
        .unwrap_or_default()
}

/// "27 Nov 2026, 14:05:09 UTC": for logs, where order within a minute matters.
pub fn absolute_seconds(unix_ms: i64) -> String {
    let format = format_description!(
        "[day padding:none] [month repr:short] [year], [hour]:[minute]:[second] UTC"
    );
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(format).ok())
        .unwrap_or_default()
}

/// "5 min ago", the way people glance at recency.
pub fn relative(unix_ms: i64, now_ms: i64) -> String {
    let seconds = (now_ms - unix_ms).max(0) / 1000;
    match seconds {
        0..60 => "just now".to_owned(),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86400 => format!("{} h ago", seconds / 3600),
        86400..172800 => "yesterday".to_owned(),
        _ => format!("{} days ago", seconds / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_naturally() {
        assert_eq!(absolute(1_795_791_900_000), "27 Nov 2026, 15:05 UTC");
        let now = 1_795_791_900_000;
        assert_eq!(relative(now - 5_000, now), "just now");
        assert_eq!(relative(now - 300_000, now), "5 min ago");
        assert_eq!(relative(now - 3 * 3_600_000, now), "3 h ago");
        assert_eq!(relative(now - 3 * 86_400_000, now), "3 days ago");
    }
}
