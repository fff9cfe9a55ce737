//! WAL positions and segment names, as PostgreSQL computes them (`pg_walfile_name`): which
//! segment a recovery needed next when it ended, and whether that lies past the newest
//! segment the archive held.

use crate::{Error, Result};

/// An LSN as PostgreSQL prints it (`0/5000028`).
///
/// # Errors
/// [`crate::ErrorKind::Internal`] for text that is not one.
pub fn parse_lsn(text: &str) -> Result<u64> {
    let bad = || Error::internal(format!("`{text}` is not a WAL position"));
    let (hi, lo) = text.split_once('/').ok_or_else(bad)?;
    let hi = u64::from_str_radix(hi, 16).map_err(|_| bad())?;
    let lo = u64::from_str_radix(lo, 16).map_err(|_| bad())?;
    Ok((hi << 32) | lo)
}

/// The number of a segment name (`000000010000000000000009` -> timeline 1, segment 9), for
/// segments of `seg_size` bytes.
pub fn parse_segment(name: &str, seg_size: u64) -> Option<(u32, u64)> {
    if name.len() != 24 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let tli = u32::from_str_radix(&name[..8], 16).ok()?;
    let log = u64::from_str_radix(&name[8..16], 16).ok()?;
    let seg = u64::from_str_radix(&name[16..], 16).ok()?;
    Some((tli, log * per_log(seg_size) + seg))
}

/// The name of segment `number` on timeline `tli`.
pub fn segment_name(tli: u32, number: u64, seg_size: u64) -> String {
    let per = per_log(seg_size);
    format!("{tli:08X}{:08X}{:08X}", number / per, number % per)
}

/// The segment a recovery that replayed up to `end` (the end of its last record) needed
/// next: the one beginning at `end` when that is a segment boundary (after a WAL switch), else
/// the one after `end`'s segment (archived segments are full: a record that begins mid-segment
/// and could not be read runs into the next one).
pub fn next_needed(end: u64, seg_size: u64) -> u64 {
    end.div_ceil(seg_size)
}

fn per_log(seg_size: u64) -> u64 {
    0x1_0000_0000 / seg_size.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1024 * 1024;

    #[test]
    fn names_match_pg_walfile_name() {
        // 16 MB segments: 0/5000028 lies in ...05; 1/0 begins log 1.
        assert_eq!(parse_lsn("0/5000028").unwrap(), 0x5000028);
        assert_eq!(
            segment_name(1, 0x5000028 / (16 * MB), 16 * MB),
            "000000010000000000000005"
        );
        assert_eq!(
            segment_name(1, parse_lsn("1/0").unwrap() / (16 * MB), 16 * MB),
            "000000010000000100000000"
        );
        // 1 MB segments: 4096 per log.
        assert_eq!(segment_name(2, 4096 + 3, MB), "000000020000000100000003");
        assert_eq!(
            parse_segment("000000020000000100000003", MB),
            Some((2, 4099))
        );
        assert_eq!(parse_segment("00000002000000010000000", MB), None);
        assert!(parse_lsn("nope").is_err());
    }

    #[test]
    fn the_next_needed_segment_follows_the_replay_end() {
        // A switch record ends at the segment boundary: the next segment is needed.
        assert_eq!(next_needed(9 * MB, MB), 9);
        // A record ending mid-segment 8 is followed by one crossing into 9.
        assert_eq!(next_needed(8 * MB + 40, MB), 9);
    }
}
