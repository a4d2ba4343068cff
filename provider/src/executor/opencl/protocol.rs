//! What the backend and its worker processes say to each other over the worker's stdin and
//! stdout: one frame per message, a 4-byte little-endian length then that many bytes of JSON.
//!
//! JSON keeps the messages readable in a debugger and reuses the kernel's own serde form
//! (buffers travel as base64, as they do on-chain); task buffers are small enough for that.

use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

use cosmwasm_std::Binary;
use opengpu_types::kernel::Kernel;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Largest frame either side accepts; a longer length prefix means the stream is corrupt.
pub const MAX_FRAME_BYTES: u32 = 1 << 30;

/// Backend to worker.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Request<'a> {
    /// Compile (or take from the cache) and launch this kernel once. Its off-chain inputs
    /// are read from `input_dir`, one file per sha256, already checked by the daemon.
    Run {
        kernel: Cow<'a, Kernel>,
        #[serde(default)]
        input_dir: Option<Cow<'a, Path>>,
    },
}

/// Worker to backend.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// Sent once after start-up: the device is open and requests may follow.
    Ready,
    /// The launch finished; outputs are the `Output` buffers in argument order.
    Ran {
        outputs: Vec<Binary>,
        elapsed: Duration,
        kernel_elapsed: Duration,
        cache_hit: bool,
    },
    /// The launch produced no result; the worker keeps serving.
    Failed { failure: Failure },
}

/// Why a launch failed, as far as the worker itself can tell (a crash or a hang it cannot).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum Failure {
    /// The program does not build; carries the (truncated) build log.
    Compile(String),
    /// Any other OpenCL error: bad entry point, argument mismatch, enqueue failure.
    Launch(String),
    /// A buffer could not be allocated, on the device or on the host.
    OutOfMemory(String),
}

#[derive(thiserror::Error, Debug)]
pub enum FrameError {
    #[error("i/o error on the worker pipe: {0}")]
    Io(#[from] io::Error),
    #[error("stream ended inside a frame")]
    Truncated,
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    TooLarge { len: u64, max: u32 },
    /// The frame was skipped whole, so the stream is still in step.
    #[error("no memory for a frame of {len} bytes")]
    NoMemory { len: u32 },
    #[error("frame is not a valid message: {0}")]
    Json(#[from] serde_json::Error),
}

/// Writes `message` as one frame and flushes, so the peer sees it at once.
pub fn write_frame<W: Write, T: Serialize>(writer: &mut W, message: &T) -> Result<(), FrameError> {
    let body = serde_json::to_vec(message)?;
    let len = body.len() as u64;
    if len > u64::from(MAX_FRAME_BYTES) {
        return Err(FrameError::TooLarge {
            len,
            max: MAX_FRAME_BYTES,
        });
    }
    writer.write_all(&(len as u32).to_le_bytes())?;
    writer.write_all(&body)?;
    writer.flush()?;
    Ok(())
}

/// Reads one frame; `Ok(None)` when the stream ends cleanly between frames.
pub fn read_frame<R: Read, T: DeserializeOwned>(reader: &mut R) -> Result<Option<T>, FrameError> {
    let mut prefix = [0u8; 4];
    let mut filled = 0;
    while filled < prefix.len() {
        match reader.read(&mut prefix[filled..]) {
            Ok(0) if filled == 0 => return Ok(None),
            Ok(0) => return Err(FrameError::Truncated),
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err.into()),
        }
    }
    let len = u32::from_le_bytes(prefix);
    if len > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge {
            len: u64::from(len),
            max: MAX_FRAME_BYTES,
        });
    }
    // Under RLIMIT_AS a large frame may not fit: skip it instead of aborting the process.
    let mut body = Vec::new();
    if body.try_reserve_exact(len as usize).is_err() {
        let skipped = io::copy(&mut reader.take(u64::from(len)), &mut io::sink())?;
        if skipped < u64::from(len) {
            return Err(FrameError::Truncated);
        }
        return Err(FrameError::NoMemory { len });
    }
    reader.take(u64::from(len)).read_to_end(&mut body)?;
    if body.len() < len as usize {
        return Err(FrameError::Truncated);
    }
    Ok(Some(serde_json::from_slice(&body)?))
}

#[cfg(test)]
mod tests {
    use opengpu_types::kernel::KernelArg;

    use super::*;

    fn kernel() -> Kernel {
        Kernel {
            source: "__kernel void k(__global uint* out) { out[0] = 7; }".into(),
            entry_point: "k".into(),
            global_work_size: vec![1],
            local_work_size: None,
            args: vec![
                KernelArg::Input {
                    data: Binary::from(vec![1, 2, 3]),
                },
                KernelArg::Output { size: 4 },
            ],
        }
    }

    #[test]
    fn frames_round_trip_in_order_then_end_cleanly() {
        let kernel = kernel();
        let reply = Reply::Ran {
            outputs: vec![Binary::from(vec![7, 0, 0, 0])],
            elapsed: Duration::from_micros(1500),
            kernel_elapsed: Duration::from_micros(900),
            cache_hit: true,
        };
        let mut stream = Vec::new();
        write_frame(
            &mut stream,
            &Request::Run {
                kernel: Cow::Borrowed(&kernel),
                input_dir: Some(Cow::Borrowed(Path::new("/state/inputs"))),
            },
        )
        .unwrap();
        write_frame(&mut stream, &reply).unwrap();

        let mut reader = stream.as_slice();
        let request: Option<Request<'static>> = read_frame(&mut reader).unwrap();
        assert_eq!(
            request,
            Some(Request::Run {
                kernel: Cow::Owned(kernel),
                input_dir: Some(Cow::Owned("/state/inputs".into())),
            })
        );
        assert_eq!(read_frame::<_, Reply>(&mut reader).unwrap(), Some(reply));
        assert_eq!(read_frame::<_, Reply>(&mut reader).unwrap(), None);
    }

    #[test]
    fn length_prefix_is_little_endian_u32() {
        let mut stream = Vec::new();
        write_frame(&mut stream, &Reply::Ready).unwrap();
        let body = br#""ready""#;
        assert_eq!(stream[..4], (body.len() as u32).to_le_bytes());
        assert_eq!(&stream[4..], body);
    }

    #[test]
    fn a_frame_cut_short_is_truncated_not_a_clean_end() {
        let mut stream = Vec::new();
        write_frame(&mut stream, &Reply::Ready).unwrap();
        for cut in [2, stream.len() - 1] {
            let result = read_frame::<_, Reply>(&mut &stream[..cut]);
            assert!(
                matches!(result, Err(FrameError::Truncated)),
                "cut at {cut}: {result:?}"
            );
        }
    }

    #[test]
    fn an_oversized_length_is_refused_before_allocating() {
        let stream = (MAX_FRAME_BYTES + 1).to_le_bytes();
        let result = read_frame::<_, Reply>(&mut stream.as_slice());
        assert!(
            matches!(result, Err(FrameError::TooLarge { len, .. }) if len == u64::from(MAX_FRAME_BYTES) + 1)
        );
    }

    #[test]
    fn a_frame_that_is_not_a_message_is_a_json_error() {
        let mut stream = 5u32.to_le_bytes().to_vec();
        stream.extend_from_slice(b"hello");
        let result = read_frame::<_, Reply>(&mut stream.as_slice());
        assert!(matches!(result, Err(FrameError::Json(_))), "{result:?}");
    }

    #[test]
    fn failures_name_their_kind() {
        let failure = Failure::Compile("error: expected ';'".into());
        let json = serde_json::to_string(&Reply::Failed { failure }).unwrap();
        assert_eq!(
            json,
            r#"{"failed":{"failure":{"kind":"compile","detail":"error: expected ';'"}}}"#
        );
    }
}
