//! Little-endian conversion between element vectors and the byte buffers a task carries.

pub(crate) fn from_f32s(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub(crate) fn from_u32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// `bytes` has a multiple of 4 bytes: callers check the buffer's size first.
pub(crate) fn to_f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// `bytes` has a multiple of 4 bytes: callers check the buffer's size first.
pub(crate) fn to_u32s(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_little_endian() {
        assert_eq!(from_u32s(&[0x0403_0201]), vec![1, 2, 3, 4]);
        assert_eq!(to_u32s(&from_u32s(&[7, u32::MAX])), vec![7, u32::MAX]);
        assert_eq!(from_f32s(&[1.0]), vec![0, 0, 0x80, 0x3f]);
        assert_eq!(to_f32s(&from_f32s(&[-0.5, 3.25])), vec![-0.5, 3.25]);
    }
}
