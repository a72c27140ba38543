//! Latency summaries printed the same way for every system under test.

use std::time::Duration;

/// The `p` quantile (0..1) of sorted latencies, in milliseconds.
pub fn quantile_ms(sorted: &[Duration], p: f64) -> f64 {
    sorted.get(((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1)).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

/// One result line: `label op rate/s p50 p99 (ok, errors, connections)`.
pub fn line(label: &str, op: &str, latencies: &mut [Duration], errors: u64, seconds: f64, concurrency: usize) -> String {
    latencies.sort();
    let rate = latencies.len() as f64 / seconds.max(1e-9);
    format!(
        "{label:<10} {op:<9} {rate:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} ok, {errors} errors, {concurrency} connections)",
        quantile_ms(latencies, 0.5),
        quantile_ms(latencies, 0.99),
        latencies.len(),
    )
}
