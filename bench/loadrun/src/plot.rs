//! PNG plots: per scenario, latency against offered load, one line per system (p99 thick with
//! markers, p50 thin), logarithmic latency axis so a saturated system does not flatten the rest.

use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::report::ScenarioResult;
use crate::scenario::System;

fn color(system: System) -> RGBColor {
    match system {
        System::Direct => RGBColor(120, 120, 120),
        System::Nginx => RGBColor(0, 150, 57),
        System::Baseline => RGBColor(255, 127, 14),
        System::Frontdesk => RGBColor(31, 119, 180),
    }
}

/// Draws `scenario`'s latency points to `path` (PNG, 960×600).
pub fn latency(path: &Path, scenario: &ScenarioResult) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| Error::Plot {
        path: path.to_owned(),
        detail: e.to_string(),
    };
    let points: Vec<_> = scenario
        .latency
        .iter()
        .filter(|p| p.p99_ms.is_some())
        .collect();
    if points.is_empty() {
        return Err(fail(&"no latency points"));
    }
    let x_max = points
        .iter()
        .map(|p| f64::from(p.offered_rps))
        .fold(0.0, f64::max)
        * 1.1;
    let lows = points.iter().filter_map(|p| p.p50_ms.or(p.p99_ms));
    let y_min = lows.fold(f64::INFINITY, f64::min).max(0.001) * 0.7;
    let y_max = points.iter().filter_map(|p| p.p99_ms).fold(0.0, f64::max) * 1.5;

    let root = BitMapBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Scenario {}: {}", scenario.number, scenario.title),
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_max, (y_min..y_max).log_scale())
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("offered load (requests/s, open loop)")
        .y_desc("latency (ms, log scale)")
        .x_label_formatter(&|x| format!("{:.0}", x))
        .y_label_formatter(&|y| format!("{y:.2}"))
        .draw()
        .map_err(|e| fail(&e))?;

    for &system in &scenario.systems {
        let mut own: Vec<_> = points.iter().filter(|p| p.system == system).collect();
        own.sort_by_key(|p| p.offered_rps);
        if own.is_empty() {
            continue;
        }
        let c = color(system);
        let p99: Vec<(f64, f64)> = own
            .iter()
            .filter_map(|p| Some((f64::from(p.offered_rps), p.p99_ms?)))
            .collect();
        let p50: Vec<(f64, f64)> = own
            .iter()
            .filter_map(|p| Some((f64::from(p.offered_rps), p.p50_ms?)))
            .collect();
        chart
            .draw_series(LineSeries::new(p99.clone(), c.stroke_width(3)))
            .map_err(|e| fail(&e))?
            .label(format!("{} p99", system.label()))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        chart
            .draw_series(p99.iter().map(|&(x, y)| Circle::new((x, y), 4, c.filled())))
            .map_err(|e| fail(&e))?;
        chart
            .draw_series(LineSeries::new(p50, c.stroke_width(1)))
            .map_err(|e| fail(&e))?
            .label(format!("{} p50", system.label()))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(1)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_png_with_one_line_per_system() {
        let results = crate::report::tests::sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s1.png");
        latency(&path, &results.scenarios[0]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        // A skipped scenario has nothing to draw and says so.
        assert!(latency(&dir.path().join("s3.png"), &results.scenarios[1]).is_err());
    }
}
