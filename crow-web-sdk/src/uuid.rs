//! Event ids: UUID v7 (time-ordered) from the page clock and browser randomness.

use alloc::string::String;

/// Formats a UUID v7 from a Unix time in milliseconds and 10 random bytes.
pub fn v7(unix_ms: u64, random: [u8; 10]) -> String {
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
    b[6..].copy_from_slice(&random);
    b[6] = (b[6] & 0x0F) | 0x70;
    b[8] = (b[8] & 0x3F) | 0x80;
    hyphenated(&b)
}

fn hyphenated(b: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(HEX[usize::from(byte >> 4)] as char);
        s.push(HEX[usize::from(byte & 0xF)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_a_valid_v7_carrying_the_time() {
        let id = super::v7(0x0123_4567_89AB, [0xFF; 10]);
        assert_eq!(id, "01234567-89ab-7fff-bfff-ffffffffffff");
        let id = super::v7(1, [0; 10]);
        assert_eq!(id, "00000000-0001-7000-8000-000000000000");
    }
}
