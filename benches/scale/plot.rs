//! Draws a scale curve as an SVG line chart with log-log axes (plotters' SVG backend: text is written as SVG text for
//! the viewer to render, so no font library is needed to build or run it).

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;

/// One line of a chart: its legend and its points (x, y), both positive.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed: a baseline beside the measured line.
    pub dashed: bool,
    /// Index into [`COLOURS`], so a measured line and its baseline share a colour.
    pub colour: usize,
}

/// Line colours that stay apart on white: blue, vermilion, bluish green, reddish purple (Okabe-Ito).
const COLOURS: [RGBColor; 4] =
    [RGBColor(0, 114, 178), RGBColor(213, 94, 0), RGBColor(0, 158, 115), RGBColor(204, 121, 167)];

/// What a chart says: its title and the names of its axes.
pub struct Chart<'a> {
    pub title: &'a str,
    pub x: &'a str,
    pub y: &'a str,
    /// Where the legend goes: a corner the lines leave empty.
    pub legend: SeriesLabelPosition,
}

/// Writes `series` as a log-log line chart to `path`.
pub fn draw(path: &Path, chart: &Chart<'_>, series: &[Series]) -> Result<(), Box<dyn Error>> {
    let points = || series.iter().flat_map(|s| s.points.iter().copied());
    let (x_min, x_max) = bounds(points().map(|p| p.0));
    let (y_min, y_max) = bounds(points().map(|p| p.1));
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut plot = ChartBuilder::on(&root)
        .caption(chart.title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d((x_min..x_max).log_scale(), (y_min..y_max).log_scale())?;
    plot.configure_mesh()
        .x_desc(chart.x)
        .y_desc(chart.y)
        .x_label_formatter(&|x| short(*x))
        .y_label_formatter(&|y| short(*y))
        .draw()?;
    for s in series {
        let colour = COLOURS[s.colour % COLOURS.len()];
        let style = colour.stroke_width(2);
        let drawn = if s.dashed {
            plot.draw_series(DashedLineSeries::new(s.points.iter().copied(), 6, 4, style))?
        } else {
            plot.draw_series(LineSeries::new(s.points.iter().copied(), style))?
        };
        // The legend's sample is a solid stroke either way: the label says which lines are dashed.
        let label = if s.dashed { format!("{} (dashed)", s.label) } else { s.label.clone() };
        drawn.label(label).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        plot.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
    }
    plot.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(chart.legend.clone())
        .draw()?;
    root.present()?;
    Ok(())
}

/// The range of `values` with some room on either side, on a log axis.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.filter(|v| *v > 0.0).fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return (1.0, 10.0);
    }
    (lo / 1.6, hi * 1.6)
}

/// A tick label: 1k, 10M, 0.5.
fn short(value: f64) -> String {
    let (scaled, suffix) = match value {
        v if v >= 1e9 => (v / 1e9, "G"),
        v if v >= 1e6 => (v / 1e6, "M"),
        v if v >= 1e3 => (v / 1e3, "k"),
        v => (v, ""),
    };
    if scaled >= 10.0 || scaled.fract().abs() < 1e-9 {
        format!("{scaled:.0}{suffix}")
    } else {
        format!("{scaled:.1}{suffix}")
    }
}
