//! The stored layout of a reveal's outputs: each buffer as its length (u64, big-endian) then its
//! bytes. Raw rather than JSON, whose base64 would add a third to the largest values the market
//! writes, and to the gas of writing them.

use cosmwasm_std::{Binary, StdError, StdResult};

const LEN_BYTES: usize = 8;

pub fn encode(outputs: &[Binary]) -> Vec<u8> {
    let total = outputs.iter().map(|o| LEN_BYTES + o.len()).sum();
    let mut bytes = Vec::with_capacity(total);
    for output in outputs {
        bytes.extend_from_slice(&(output.len() as u64).to_be_bytes());
        bytes.extend_from_slice(output);
    }
    bytes
}

pub fn decode(mut bytes: &[u8]) -> StdResult<Vec<Binary>> {
    let mut outputs = Vec::new();
    // Each round consumes at least the 8 bytes of a length: bounded by the stored size.
    while !bytes.is_empty() {
        let (len, rest) = bytes
            .split_first_chunk::<LEN_BYTES>()
            .ok_or_else(|| StdError::msg("stored outputs end inside a length"))?;
        let len = usize::try_from(u64::from_be_bytes(*len))
            .ok()
            .filter(|len| *len <= rest.len())
            .ok_or_else(|| StdError::msg("stored outputs end inside a buffer"))?;
        let (output, rest) = rest.split_at(len);
        outputs.push(Binary::from(output));
        bytes = rest;
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_buffers_of_any_length_and_number() {
        for outputs in [
            vec![],
            vec![Binary::from(vec![7u8])],
            vec![Binary::from(vec![]), Binary::from(vec![1, 2, 3])],
            vec![
                Binary::from(vec![0xab; 300_000]),
                Binary::from(vec![5u8; 17]),
            ],
        ] {
            let bytes = encode(&outputs);
            let payload: usize = outputs.iter().map(|o| o.len()).sum();
            assert_eq!(bytes.len(), payload + 8 * outputs.len());
            assert_eq!(decode(&bytes).unwrap(), outputs);
        }
    }

    #[test]
    fn truncated_bytes_are_an_error() {
        let bytes = encode(&[Binary::from(vec![1u8, 2, 3])]);
        let err = decode(&bytes[..10]).unwrap_err();
        assert!(err.to_string().contains("inside a buffer"), "{err}");
        let err = decode(&bytes[..5]).unwrap_err();
        assert!(err.to_string().contains("inside a length"), "{err}");
    }
}
