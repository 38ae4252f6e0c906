//! A chunk: up to [`CHUNK_SAMPLES`] samples of one series, in time order, packed into one blob.
//!
//! Why chunks: SQLite spends about 50 ns stepping to each row, so a million samples stored one
//! per row cannot be read in under 100 ms on this project's machines; in chunks of 512 they are
//! about two thousand rows. The format is deliberately plain — no Gorilla XOR — because reads
//! were already far under the goal with it (see the benchmark):
//!
//! ```text
//! byte 0            format (1)
//! count varints     timestamp deltas in ms, zigzag-encoded, the first from the chunk's
//!                   `first_ms` (so 0)
//! count × 8 bytes   values, IEEE 754 little-endian (NaN kept as it is)
//! ```
//!
//! Decoding checks every length and overflow: a damaged blob is an error naming what is wrong,
//! never a panic or a wrong sample.

use crate::summary::Point;

/// Samples per chunk at most.
pub const CHUNK_SAMPLES: usize = 512;

const FORMAT: u8 = 1;

/// Encode `points` (sorted by time, at least one); their first timestamp is the chunk's
/// `first_ms`.
pub fn encode(points: &[Point]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + points.len() * 11);
    out.push(FORMAT);
    let mut previous = points.first().map_or(0, |p| p.timestamp_ms);
    for point in points {
        // Wrapping: the decoder wraps back, so even deltas past i64 round-trip.
        let delta = point.timestamp_ms.wrapping_sub(previous);
        previous = point.timestamp_ms;
        let mut zigzag = ((delta << 1) ^ (delta >> 63)) as u64;
        while zigzag >= 0x80 {
            out.push((zigzag as u8) | 0x80);
            zigzag >>= 7;
        }
        out.push(zigzag as u8);
    }
    for point in points {
        out.extend_from_slice(&point.value.to_le_bytes());
    }
    out
}

/// Decode a chunk of `count` samples starting at `first_ms`, appending its points to `out`.
pub fn decode(
    first_ms: i64,
    count: usize,
    data: &[u8],
    out: &mut Vec<Point>,
) -> Result<(), String> {
    let start = out.len();
    let values_at = timestamps_into(first_ms, count, data, |timestamp_ms| {
        out.push(Point {
            timestamp_ms,
            value: 0.0,
        })
    })?;
    for (point, bytes) in out[start..]
        .iter_mut()
        .zip(data[values_at..].chunks_exact(8))
    {
        let mut value = [0u8; 8];
        value.copy_from_slice(bytes);
        point.value = f64::from_le_bytes(value);
    }
    Ok(())
}

/// The timestamps of a chunk, for membership checks.
pub fn timestamps(first_ms: i64, count: usize, data: &[u8]) -> Result<Vec<i64>, String> {
    let mut out = Vec::with_capacity(count.min(data.len()));
    timestamps_into(first_ms, count, data, |t| out.push(t))?;
    Ok(out)
}

/// Read the timestamps, checking the blob's layout; returns where the values start.
fn timestamps_into(
    first_ms: i64,
    count: usize,
    data: &[u8],
    mut each: impl FnMut(i64),
) -> Result<usize, String> {
    match data.first() {
        Some(&FORMAT) => {}
        Some(other) => return Err(format!("chunk format {other} is not one this SDD reads")),
        None => return Err("the chunk is empty".into()),
    }
    // Each sample takes at least one byte of time and eight of value: a count the blob cannot
    // hold is refused before anything is allocated for it.
    if count > data.len() / 9 {
        return Err(format!("the chunk is too short for {count} samples"));
    }
    let mut at = 1;
    let mut previous = first_ms;
    for i in 0..count {
        let mut zigzag = 0u64;
        let mut shift = 0;
        loop {
            let Some(&byte) = data.get(at) else {
                return Err(format!("the chunk ends inside timestamp {i} of {count}"));
            };
            at += 1;
            if shift >= 64 {
                return Err(format!("timestamp {i} of the chunk is too long"));
            }
            zigzag |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte < 0x80 {
                break;
            }
        }
        let delta = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
        previous = previous.wrapping_add(delta);
        each(previous);
    }
    if data.len() - at != count * 8 {
        return Err(format!(
            "the chunk holds {} bytes of values for {count} samples",
            data.len() - at
        ));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(samples: &[(i64, f64)]) -> Vec<Point> {
        samples
            .iter()
            .map(|&(timestamp_ms, value)| Point {
                timestamp_ms,
                value,
            })
            .collect()
    }

    #[test]
    fn chunks_round_trip() {
        let cases: Vec<Vec<Point>> = vec![
            points(&[(1_700_000_000_000, 1.5)]),
            points(&[(0, 0.0), (15_000, 1.0), (30_000, 2.0), (30_001, -3.25)]),
            points(&[
                (-5_000, f64::NAN),
                (-1, f64::INFINITY),
                (0, f64::NEG_INFINITY),
                (1, -0.0),
            ]),
            points(&[(i64::MIN, 1.0), (i64::MAX, 2.0)]),
            (0..CHUNK_SAMPLES as i64)
                .map(|i| Point {
                    timestamp_ms: 1_700_000_000_000 + i * 15_000 + i % 3,
                    value: i as f64 * 0.1,
                })
                .collect(),
        ];
        for original in cases {
            let first = original[0].timestamp_ms;
            let data = encode(&original);
            let mut decoded = Vec::new();
            decode(first, original.len(), &data, &mut decoded).unwrap();
            assert_eq!(decoded.len(), original.len());
            for (a, b) in decoded.iter().zip(&original) {
                assert_eq!(a.timestamp_ms, b.timestamp_ms);
                assert_eq!(a.value.to_bits(), b.value.to_bits());
            }
            let times = timestamps(first, original.len(), &data).unwrap();
            assert_eq!(
                times,
                original.iter().map(|p| p.timestamp_ms).collect::<Vec<_>>()
            );
        }
        // Regular scrapes cost 3 bytes of time and 8 of value per sample.
        let regular: Vec<Point> = (0..100)
            .map(|i| Point {
                timestamp_ms: i * 15_000,
                value: 1.0,
            })
            .collect();
        assert_eq!(encode(&regular).len(), 1 + 1 + 99 * 3 + 100 * 8);
    }

    /// Damaged blobs are errors saying what is wrong, never a panic.
    #[test]
    fn damaged_chunks_are_errors() {
        let good = encode(&points(&[(0, 1.0), (10, 2.0)]));
        let cases: Vec<(Vec<u8>, usize, &str)> = vec![
            (vec![], 2, "empty"),
            (vec![9], 2, "chunk format 9"),
            (
                [good[..2].to_vec(), vec![0; 16]].concat(),
                2,
                "bytes of values",
            ),
            (
                good[..good.len() - 1].to_vec(),
                2,
                "bytes of values for 2 samples",
            ),
            (good.clone(), 3, "too short for 3 samples"),
            (good.clone(), usize::MAX, "too short"),
            (good.clone(), 1, "bytes of values for 1 samples"),
            ([vec![1u8], vec![0xff; 11], vec![0]].concat(), 1, "too long"),
            (
                [vec![1u8], vec![0x80; 9]].concat(),
                1,
                "ends inside timestamp 0 of 1",
            ),
        ];
        for (data, count, expected) in cases {
            let err = decode(0, count, &data, &mut Vec::new()).unwrap_err();
            assert!(err.contains(expected), "{data:?}: {err}");
        }
        // Every truncation and every single-byte change of a real chunk: no panic.
        let chunk = encode(
            &(0..50)
                .map(|i| Point {
                    timestamp_ms: i * 1000,
                    value: i as f64,
                })
                .collect::<Vec<_>>(),
        );
        for end in 0..chunk.len() {
            let _ = decode(0, 50, &chunk[..end], &mut Vec::new());
        }
        for i in 0..chunk.len() {
            let mut damaged = chunk.clone();
            damaged[i] ^= 0xa5;
            let _ = decode(0, 50, &damaged, &mut Vec::new());
        }
    }
}
