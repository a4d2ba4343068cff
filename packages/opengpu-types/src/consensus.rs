//! Task-level Consensus: N replicas compute, K that agree decide. The rules that both the
//! market (tally) and off-chain programs (what a task will accept) need live here once.
//!
//! Agreement is exact (same `outputs_digest`) unless the task names a float tolerance; then the
//! outputs are read as little-endian `f32` and compared element by element. Tolerant agreement
//! is not transitive, so groups form in commit order: each result joins the first group whose
//! first member it agrees with, else it starts a group. The largest group wins when it has at
//! least `quorum` members; `quorum` must be a strict majority of `replicas`, so two groups can
//! never both reach it.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Binary, Decimal};

/// How close two float results must be to count as the same answer.
#[cw_serde]
#[derive(Copy, Eq)]
pub enum FloatTolerance {
    /// `|a − b| <= max · max(|a|, |b|)` for every element.
    Relative { max: Decimal },
    /// `a` and `b` are at most `max` representable f32 values apart.
    Ulps { max: u32 },
}

/// Largest relative tolerance a task may ask for: beyond it "agreement" means little.
pub const MAX_RELATIVE_TOLERANCE: Decimal = Decimal::percent(1);
/// Largest ULP distance a task may ask for.
pub const MAX_ULPS: u32 = 1 << 20;

/// Checks a Consensus task's parameters: at least 2 replicas, no more than the market allows
/// committers, and a quorum that is a strict majority of the replicas.
pub fn validate(
    replicas: u32,
    quorum: u32,
    tolerance: Option<&FloatTolerance>,
    max_committers: u32,
) -> Result<(), String> {
    if replicas < 2 || replicas > max_committers {
        return Err(format!(
            "replicas must be 2..={max_committers} (the market's max_committers), got {replicas}"
        ));
    }
    if quorum > replicas || quorum.saturating_mul(2) <= replicas {
        return Err(format!(
            "quorum must be a strict majority of the {replicas} replicas and at most {replicas}, got {quorum}"
        ));
    }
    match tolerance {
        Some(FloatTolerance::Relative { max })
            if max.is_zero() || *max > MAX_RELATIVE_TOLERANCE =>
        {
            Err(format!(
                "relative tolerance must be above 0 and at most {MAX_RELATIVE_TOLERANCE}, got {max}"
            ))
        }
        Some(FloatTolerance::Ulps { max }) if *max > MAX_ULPS => Err(format!(
            "ulps tolerance must be at most {MAX_ULPS}, got {max}"
        )),
        _ => Ok(()),
    }
}

/// Whether two results agree within `tolerance`, element by element as f32. Buffers of
/// different count or size never agree; a byte count that is not a multiple of 4 agrees only
/// where the bytes are identical.
pub fn outputs_agree(tolerance: &FloatTolerance, a: &[Binary], b: &[Binary]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.len() == y.len()
                && if x.len() % 4 != 0 {
                    x == y
                } else {
                    x.chunks_exact(4)
                        .zip(y.chunks_exact(4))
                        .all(|(p, q)| floats_agree(tolerance, to_f32(p), to_f32(q)))
                }
        })
}

fn to_f32(bytes: &[u8]) -> f32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(bytes);
    f32::from_le_bytes(word)
}

fn floats_agree(tolerance: &FloatTolerance, a: f32, b: f32) -> bool {
    if a.to_bits() == b.to_bits() || a == b {
        return true;
    }
    if !a.is_finite() || !b.is_finite() {
        return false;
    }
    match tolerance {
        FloatTolerance::Relative { max } => {
            let max = decimal_to_f64(max);
            let (a, b) = (f64::from(a), f64::from(b));
            (a - b).abs() <= max * a.abs().max(b.abs())
        }
        FloatTolerance::Ulps { max } => ulps_apart(a, b) <= u64::from(*max),
    }
}

/// Distance in representable values, treating -0.0 and 0.0 as one point.
fn ulps_apart(a: f32, b: f32) -> u64 {
    fn ordered(x: f32) -> i64 {
        let bits = x.to_bits() as i32;
        i64::from(if bits < 0 { i32::MIN - bits } else { bits })
    }
    ordered(a).abs_diff(ordered(b))
}

/// A `Decimal` as f64 (it has 18 fractional digits; tolerances are far inside f64's range).
pub fn decimal_to_f64(value: &Decimal) -> f64 {
    value.atomics().u128() as f64 / 1e18
}

/// Groups results in order: each joins the first group whose leader it agrees with. Returns
/// the group index of each result. `agree(i, j)` compares results `i` and `j`.
pub fn group(count: usize, mut agree: impl FnMut(usize, usize) -> bool) -> Vec<usize> {
    let mut leaders: Vec<usize> = vec![];
    let mut groups = Vec::with_capacity(count);
    for i in 0..count {
        match leaders.iter().position(|&leader| agree(leader, i)) {
            Some(g) => groups.push(g),
            None => {
                groups.push(leaders.len());
                leaders.push(i);
            }
        }
    }
    groups
}

/// The winning group: the largest, when it has at least `quorum` members.
pub fn winning_group(groups: &[usize], quorum: u32) -> Option<usize> {
    let count = groups.iter().copied().max().map_or(0, |g| g + 1);
    let sizes: Vec<usize> = (0..count)
        .map(|g| groups.iter().filter(|&&x| x == g).count())
        .collect();
    let (best, size) = sizes
        .iter()
        .enumerate()
        .max_by_key(|(g, size)| (**size, usize::MAX - g))?;
    (*size as u64 >= u64::from(quorum)).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(values: &[f32]) -> Vec<Binary> {
        vec![Binary::from(
            values
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>(),
        )]
    }

    #[test]
    fn quorum_must_be_a_strict_majority() {
        assert!(validate(3, 2, None, 5).is_ok());
        assert!(validate(4, 2, None, 5).is_err());
        assert!(validate(4, 3, None, 5).is_ok());
        assert!(validate(3, 4, None, 5).is_err());
        assert!(validate(1, 1, None, 5).is_err());
        assert!(validate(6, 4, None, 5).is_err());
    }

    #[test]
    fn tolerance_bounds_are_checked() {
        let zero = FloatTolerance::Relative {
            max: Decimal::zero(),
        };
        let big = FloatTolerance::Relative {
            max: Decimal::percent(50),
        };
        assert!(validate(3, 2, Some(&zero), 5).is_err());
        assert!(validate(3, 2, Some(&big), 5).is_err());
        let ulps = FloatTolerance::Ulps { max: MAX_ULPS + 1 };
        assert!(validate(3, 2, Some(&ulps), 5).is_err());
    }

    #[test]
    fn relative_tolerance_agrees_within_bound_only() {
        let tol = FloatTolerance::Relative {
            max: Decimal::permille(1),
        };
        assert!(outputs_agree(
            &tol,
            &floats(&[1000.0, 2.0]),
            &floats(&[1000.5, 2.0])
        ));
        assert!(!outputs_agree(
            &tol,
            &floats(&[1000.0, 2.0]),
            &floats(&[1002.0, 2.0])
        ));
        assert!(!outputs_agree(&tol, &floats(&[f32::NAN]), &floats(&[1.0])));
        assert!(!outputs_agree(&tol, &floats(&[1.0]), &floats(&[1.0, 1.0])));
    }

    #[test]
    fn ulps_count_representable_steps_across_zero() {
        let tol = FloatTolerance::Ulps { max: 2 };
        let next = f32::from_bits(1.0f32.to_bits() + 2);
        assert!(outputs_agree(&tol, &floats(&[1.0]), &floats(&[next])));
        let far = f32::from_bits(1.0f32.to_bits() + 3);
        assert!(!outputs_agree(&tol, &floats(&[1.0]), &floats(&[far])));
        assert!(outputs_agree(&tol, &floats(&[0.0]), &floats(&[-0.0])));
        assert_eq!(ulps_apart(f32::from_bits(1), -f32::from_bits(1)), 2);
    }

    #[test]
    fn groups_form_in_order_and_the_largest_with_quorum_wins() {
        let answers = [1, 2, 1, 1, 3];
        let groups = group(answers.len(), |i, j| answers[i] == answers[j]);
        assert_eq!(groups, vec![0, 1, 0, 0, 2]);
        assert_eq!(winning_group(&groups, 3), Some(0));
        assert_eq!(winning_group(&groups, 4), None);
        assert_eq!(winning_group(&[], 1), None);
    }
}
