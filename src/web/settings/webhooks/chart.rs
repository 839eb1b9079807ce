//! The detail page's chart: tries per hour over the last 24 hours, succeeded above failed,
//! drawn on the server as SVG with a title, a description and the same numbers as a table.

use crate::clock::{HOUR, Timestamp};
use crate::db::webhooks::HourlyOutcomes;

const HOURS: u32 = 24;
/// The drawing's coordinate system; the SVG scales to the card's width.
pub const WIDTH: f64 = 480.0;
pub const HEIGHT: f64 = 120.0;
const SLOT: f64 = WIDTH / HOURS as f64;
const BAR: f64 = SLOT - 4.0;

pub struct HourlyChart {
    pub bars: Vec<Bar>,
    /// One sentence with the totals, for the SVG's description and the caption.
    pub description: String,
    /// The y-axis: its top (a round number at or above the peak, at least 4, so one failure
    /// does not fill the height) and its middle.
    pub axis_top: i64,
    pub axis_middle: i64,
    pub empty: bool,
    /// Labels under the bars, every six hours from the first: "14:00".
    pub ticks: Vec<String>,
}

pub struct Bar {
    pub hour: String,
    pub succeeded: i64,
    pub failed: i64,
    pub x: f64,
    pub width: f64,
    /// The failed part sits at the bottom, the succeeded part on top of it: (y, height).
    pub failed_box: (f64, f64),
    pub succeeded_box: (f64, f64),
}

impl HourlyChart {
    /// The start of the chart's first hour: the current hour is the last of 24.
    pub fn first_hour(now: Timestamp) -> Timestamp {
        now.start_of_hour().minus(HOUR * (HOURS - 1))
    }

    pub fn of(hours: &[HourlyOutcomes], now: Timestamp) -> Self {
        let first_hour = Self::first_hour(now);
        let counts: Vec<(Timestamp, i64, i64)> = (0..HOURS)
            .map(|slot| {
                let start = first_hour.plus(HOUR * slot);
                let found = hours.iter().find(|h| h.hour_start == start);
                (
                    start,
                    found.map_or(0, |h| h.succeeded),
                    found.map_or(0, |h| h.failed),
                )
            })
            .collect();
        let peak = counts.iter().map(|(_, s, f)| s + f).max().unwrap_or(0);
        let axis_top = axis_top(peak);
        let scale = (HEIGHT - 1.0) / axis_top as f64;
        let succeeded: i64 = counts.iter().map(|(_, s, _)| s).sum();
        let failed: i64 = counts.iter().map(|(_, _, f)| f).sum();
        let bars = counts
            .iter()
            .enumerate()
            .map(|(slot, &(start, succeeded, failed))| {
                let failed_height = failed as f64 * scale;
                let succeeded_height = succeeded as f64 * scale;
                Bar {
                    hour: start.hour_of_day(),
                    succeeded,
                    failed,
                    x: slot as f64 * SLOT + 2.0,
                    width: BAR,
                    failed_box: (HEIGHT - failed_height, failed_height),
                    succeeded_box: (HEIGHT - failed_height - succeeded_height, succeeded_height),
                }
            })
            .collect();
        let ticks = (0..HOURS)
            .step_by(6)
            .map(|slot| first_hour.plus(HOUR * slot).hour_of_day())
            .collect();
        Self {
            bars,
            description: format!(
                "In the last 24 hours: {succeeded} succeeded and {failed} failed tries; at most {peak} in one hour."
            ),
            axis_top,
            axis_middle: axis_top / 2,
            empty: succeeded + failed == 0,
            ticks,
        }
    }
}

/// The smallest of 4, 5, 8, 10, 20, 40, 50, 80, 100, … at or above `peak`: halves that read
/// as whole numbers.
fn axis_top(peak: i64) -> i64 {
    let mut magnitude = 1_i64;
    loop {
        for step in [1, 2, 4, 5, 8] {
            let top = step * magnitude;
            if top >= peak.max(4) {
                return top;
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_MS: i64 = 60 * 60 * 1000;

    #[test]
    fn the_chart_has_a_bar_per_hour_and_scales_to_the_busiest() {
        let now = Timestamp::from_unix_ms(10 * 24 * HOUR_MS + 13 * HOUR_MS + 5);
        let hours = [
            HourlyOutcomes {
                hour_start: Timestamp::from_unix_ms(10 * 24 * HOUR_MS + 13 * HOUR_MS),
                succeeded: 30,
                failed: 10,
            },
            HourlyOutcomes {
                hour_start: Timestamp::from_unix_ms(10 * 24 * HOUR_MS + 12 * HOUR_MS),
                succeeded: 20,
                failed: 0,
            },
        ];
        let chart = HourlyChart::of(&hours, now);
        assert_eq!(chart.bars.len(), 24);
        let last = chart.bars.last().unwrap();
        assert_eq!(
            (last.hour.as_str(), last.succeeded, last.failed),
            ("13:00", 30, 10)
        );
        assert!((last.failed_box.1 + last.succeeded_box.1 - (HEIGHT - 1.0)).abs() < 1e-9);
        assert!((chart.bars[22].succeeded_box.1 - (HEIGHT - 1.0) / 2.0).abs() < 1e-9);
        assert_eq!((chart.axis_top, chart.axis_middle), (40, 20));
        assert!(chart.description.contains("50 succeeded and 10 failed"));
        assert_eq!(chart.ticks, ["14:00", "20:00", "02:00", "08:00"]);
    }

    #[test]
    fn one_failure_does_not_fill_the_height() {
        assert_eq!(axis_top(1), 4);
        assert_eq!(axis_top(41), 50);
        assert_eq!(axis_top(94), 100);
        assert_eq!(axis_top(1001), 2000);
    }
}
