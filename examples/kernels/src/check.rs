//! Element-wise comparison of a device's output with the CPU reference.

use crate::{Example, ExampleError};

/// How an output compared with the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Elements compared.
    pub elements: u64,
    /// Largest absolute difference from the reference (infinite for a NaN where a number was
    /// expected).
    pub max_abs_error: f64,
    /// Elements outside the tolerance.
    pub mismatches: u64,
    /// Mismatches the check accepts (non-zero only for Mandelbrot).
    pub allowed_mismatches: u64,
    /// The rule each element was held to, for people.
    pub tolerance: String,
}

/// Running count of differences; turned into a report or an error by [`Tally::finish`].
pub(crate) struct Tally {
    example: Example,
    elements: u64,
    mismatches: u64,
    max_abs_error: f64,
    /// Index, expected and got of the first mismatch.
    first: Option<(usize, String, String)>,
}

impl Tally {
    /// Compares floats; element `i` may differ from the reference by `tolerance(i)`.
    pub(crate) fn f32s(
        example: Example,
        expected: &[f32],
        got: &[f32],
        tolerance: impl Fn(usize) -> f64,
    ) -> Self {
        let mut tally = Tally::new(example, expected.len());
        for (i, (e, g)) in expected.iter().zip(got).enumerate() {
            let error = (*g as f64 - *e as f64).abs();
            // A NaN output is a mismatch with an infinite error (NaN would compare false).
            let error = if error.is_nan() { f64::INFINITY } else { error };
            tally.max_abs_error = tally.max_abs_error.max(error);
            if error > tolerance(i) {
                // Debug switches to exponent notation for tiny and huge values.
                tally.mismatch(i, format!("{e:?}"), format!("{g:?}"));
            }
        }
        tally
    }

    /// Compares integers exactly.
    pub(crate) fn u32s(example: Example, expected: &[u32], got: &[u32]) -> Self {
        let mut tally = Tally::new(example, expected.len());
        for (i, (e, g)) in expected.iter().zip(got).enumerate() {
            if e != g {
                tally.max_abs_error = tally.max_abs_error.max(e.abs_diff(*g) as f64);
                tally.mismatch(i, e.to_string(), g.to_string());
            }
        }
        tally
    }

    fn new(example: Example, elements: usize) -> Self {
        Tally {
            example,
            elements: elements as u64,
            mismatches: 0,
            max_abs_error: 0.0,
            first: None,
        }
    }

    fn mismatch(&mut self, index: usize, expected: String, got: String) {
        self.mismatches += 1;
        if self.first.is_none() {
            self.first = Some((index, expected, got));
        }
    }

    /// A report when at most `allowed` elements differ, else an error naming the first
    /// difference, located by `locate(index)`.
    pub(crate) fn finish(
        self,
        allowed: u64,
        tolerance: String,
        locate: impl Fn(usize) -> String,
    ) -> Result<CheckReport, ExampleError> {
        match self.first {
            Some((index, expected, got)) if self.mismatches > allowed => {
                Err(ExampleError::Mismatch {
                    example: self.example,
                    mismatches: self.mismatches,
                    elements: self.elements,
                    allowed,
                    at: locate(index),
                    expected,
                    got,
                })
            }
            _ => Ok(CheckReport {
                elements: self.elements,
                max_abs_error: self.max_abs_error,
                mismatches: self.mismatches,
                allowed_mismatches: allowed,
                tolerance,
            }),
        }
    }
}

/// `element 17`: the location of a one-dimensional output's element.
pub(crate) fn element(index: usize) -> String {
    format!("element {index}")
}

/// `row 3, column 40`: the location of element `index` of a row-major grid `width` wide.
pub(crate) fn row_column(index: usize, width: usize) -> String {
    format!("row {}, column {}", index / width, index % width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_within_tolerance_pass_and_nan_never_does() {
        let expected = [1.0, 2.0, 3.0];
        let report = Tally::f32s(Example::VectorAdd, &expected, &[1.0, 2.001, 3.0], |_| 0.01)
            .finish(0, "0.01".into(), element)
            .unwrap();
        assert_eq!(report.mismatches, 0);
        assert!((report.max_abs_error - 0.001).abs() < 1e-6);

        let err = Tally::f32s(Example::VectorAdd, &expected, &[1.0, f32::NAN, 3.5], |_| {
            0.01
        })
        .finish(0, "0.01".into(), element)
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "vector-add output differs from the reference in 2 of 3 elements (at most 0 may \
             differ); first at element 1: expected 2.0, got NaN"
        );
    }

    #[test]
    fn integers_pass_up_to_the_allowed_count_of_mismatches() {
        let tally = || Tally::u32s(Example::Mandelbrot, &[1, 2, 3, 4], &[1, 5, 3, 4]);
        let report = tally().finish(1, "exact".into(), element).unwrap();
        assert_eq!((report.mismatches, report.max_abs_error), (1, 3.0));
        let err = tally()
            .finish(0, "exact".into(), |i| row_column(i, 2))
            .unwrap_err();
        assert!(
            err.to_string().contains("first at row 0, column 1"),
            "{err}"
        );
    }
}
