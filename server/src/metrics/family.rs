//! Writing one metric family through `prometheus-client`'s encoder.

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;

/// A counter or a gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Counter,
    Gauge,
}

/// Encodes `name` with one sample per `(label value, value)`, labelled `label`.
pub fn labelled(
    encoder: &mut DescriptorEncoder<'_>,
    (name, help, kind): (&str, &str, Type),
    label: &str,
    samples: impl IntoIterator<Item = (String, u64)>,
) -> Result<(), std::fmt::Error> {
    let metric_type = match kind {
        Type::Counter => MetricType::Counter,
        Type::Gauge => MetricType::Gauge,
    };
    let mut metric = encoder.encode_descriptor(name, help, None, metric_type)?;
    for (value_of_label, value) in samples {
        let labels = [(label, value_of_label)];
        let sample = metric.encode_family(&labels)?;
        match kind {
            Type::Counter => ConstCounter::new(value).encode(sample)?,
            Type::Gauge => ConstGauge::new(value as i64).encode(sample)?,
        }
    }
    Ok(())
}

/// [`labelled`] with one sample per core, `core="N"`.
pub fn per_core(
    encoder: &mut DescriptorEncoder<'_>,
    desc: (&str, &str, Type),
    values: impl IntoIterator<Item = u64>,
) -> Result<(), std::fmt::Error> {
    let samples = values
        .into_iter()
        .enumerate()
        .map(|(core, v)| (core.to_string(), v));
    labelled(encoder, desc, "core", samples)
}
