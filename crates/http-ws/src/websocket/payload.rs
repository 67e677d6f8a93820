//! Frame payload helpers: unmasking, inflating masked bytes, UTF-8 and close-code checks.

use flate2::{Decompress, FlushDecompress, Status};

use crate::error::WsError;

/// The permessage-deflate decompressor of one direction.
pub(super) struct Inflater {
    pub(super) d: Decompress,
    pub(super) reset_each_message: bool,
}

/// Close codes an endpoint may send (RFC 6455 7.4.1, 7.4.2).
pub(super) fn close_code_valid(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Appends `chunk` unmasked; `mask_pos` is the payload offset of `chunk[0]`.
pub(super) fn append_unmasked(
    out: &mut Vec<u8>,
    chunk: &[u8],
    mask: Option<[u8; 4]>,
    mask_pos: usize,
) {
    let start = out.len();
    out.extend_from_slice(chunk);
    if let (Some(mask), Some(tail)) = (mask, out.get_mut(start..)) {
        apply_mask(tail, mask, mask_pos);
    }
}

/// XORs `data` with the mask, starting at mask index `mask_pos % 4`.
pub(super) fn apply_mask(data: &mut [u8], mask: [u8; 4], mask_pos: usize) {
    let mut rotated = mask;
    rotated.rotate_left(mask_pos % 4);
    let m = u32::from_ne_bytes(rotated);
    let mut words = data.chunks_exact_mut(4);
    for w in &mut words {
        let v = u32::from_ne_bytes(<[u8; 4]>::try_from(&*w).unwrap_or_default()) ^ m;
        w.copy_from_slice(&v.to_ne_bytes());
    }
    let mb = m.to_ne_bytes();
    for (b, k) in words.into_remainder().iter_mut().zip(mb) {
        *b ^= k;
    }
}

/// Unmasks `chunk` in small blocks and inflates it into `out`, capped at `cap` bytes.
pub(super) fn inflate_masked(
    inf: &mut Inflater,
    chunk: &[u8],
    mask: Option<[u8; 4]>,
    mask_pos: usize,
    out: &mut Vec<u8>,
    cap: u64,
) -> Result<(), WsError> {
    let mut block = [0u8; 1024];
    let mut scratch = [0u8; 8192];
    for (i, piece) in chunk.chunks(block.len()).enumerate() {
        let buf = block.get_mut(..piece.len()).unwrap_or_default();
        buf.copy_from_slice(piece);
        if let Some(mask) = mask {
            apply_mask(buf, mask, mask_pos.wrapping_add(i * 1024));
        }
        let mut inp: &[u8] = buf;
        loop {
            let (in0, out0) = (inf.d.total_in(), inf.d.total_out());
            let status = inf
                .d
                .decompress(inp, &mut scratch, FlushDecompress::Sync)
                .map_err(|_| WsError::Decompression)?;
            let consumed = usize::try_from(inf.d.total_in() - in0).unwrap_or(usize::MAX);
            let produced = usize::try_from(inf.d.total_out() - out0).unwrap_or(usize::MAX);
            inp = inp.get(consumed..).unwrap_or_default();
            if (out.len() as u64).saturating_add(produced as u64) > cap {
                return Err(WsError::MessageTooBig { max: cap });
            }
            out.extend_from_slice(scratch.get(..produced).unwrap_or_default());
            if status == Status::StreamEnd {
                // A final block ends this DEFLATE stream; the next message starts a new one.
                inf.d.reset(false);
                if inp.is_empty() {
                    break;
                }
                continue;
            }
            if (inp.is_empty() && produced < scratch.len()) || (consumed == 0 && produced == 0) {
                break;
            }
        }
    }
    Ok(())
}

/// Extends the validated UTF-8 prefix of `buf`; false on a definite error (an incomplete
/// sequence at the end is fine until more bytes arrive).
pub(super) fn utf8_prefix_ok(buf: &[u8], ok: &mut usize) -> bool {
    let tail = buf.get(*ok..).unwrap_or_default();
    match std::str::from_utf8(tail) {
        Ok(_) => {
            *ok = buf.len();
            true
        }
        Err(e) => {
            *ok = ok.saturating_add(e.valid_up_to());
            e.error_len().is_none()
        }
    }
}
