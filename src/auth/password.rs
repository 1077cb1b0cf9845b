//! Password hashing with argon2id.

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::SaltString,
};
use std::{collections::HashSet, sync::LazyLock};

use rand::{Rng, distr::Alphanumeric};

use crate::error::AppError;

/// Hashes `password` with argon2id at `memory_kib` KiB of memory.
pub fn hash(password: &str, memory_kib: u32) -> Result<String, AppError> {
    let params = Params::new(memory_kib.max(8), 2, 1, None)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill(&mut salt_bytes);
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| AppError::Internal(e.to_string()))?;
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// Whether `password` matches `stored` (parameters are read from the hash).
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// [`hash`] on tokio's blocking threads, so that argon2 never holds up an async worker.
pub async fn hash_blocking(password: &str, memory_kib: u32) -> Result<String, AppError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash(&password, memory_kib))
        .await
        .map_err(|e| AppError::Internal(format!("password hashing stopped: {e}")))?
}

/// [`verify`] on tokio's blocking threads. Callers bound how many run at once
/// (the login limiter's slots).
pub async fn verify_blocking(password: &str, stored: &str) -> Result<bool, AppError> {
    let (password, stored) = (password.to_string(), stored.to_string());
    tokio::task::spawn_blocking(move || verify(&password, &stored))
        .await
        .map_err(|e| AppError::Internal(format!("password check stopped: {e}")))
}

/// A random password of 16 letters and digits.
pub fn generate() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

/// A hash to verify against when the user does not exist, so that an unknown
/// user costs the same time as a wrong password.
pub fn decoy(memory_kib: u32) -> String {
    hash("decoy-password", memory_kib).unwrap_or_default()
}

/// The most common passwords of 10 characters or more (see the file's header for the source and licence).
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Number of passwords in the bundled list of common ones.
pub fn common_count() -> usize {
    COMMON.len()
}

/// Checks a new password's strength for the account `username`; `None` when acceptable,
/// otherwise the reason in Vietnamese and English.
pub fn weakness(password: &str, username: &str) -> Option<(&'static str, &'static str)> {
    let chars = password.chars().count();
    if chars < 10 {
        return Some((
            "Mật khẩu phải có ít nhất 10 ký tự",
            "The password must be at least 10 characters long",
        ));
    }
    if chars > 128 {
        return Some((
            "Mật khẩu dài tối đa 128 ký tự",
            "The password must be at most 128 characters long",
        ));
    }
    if password.chars().all(char::is_whitespace) {
        return Some((
            "Mật khẩu không được chỉ gồm khoảng trắng",
            "The password must not be only spaces",
        ));
    }
    let mut it = password.chars();
    if let Some(first) = it.next()
        && it.all(|c| c == first)
    {
        return Some((
            "Mật khẩu không được lặp lại một ký tự duy nhất",
            "The password must not be one character repeated",
        ));
    }
    let folded = password.trim().to_lowercase();
    let name = username.trim().to_lowercase();
    if !name.is_empty()
        && (folded == name || folded.contains(&name) && name.chars().count() * 2 >= chars)
    {
        return Some((
            "Mật khẩu không được là tên đăng nhập",
            "The password must not be the user name",
        ));
    }
    if COMMON.contains(folded.as_str()) {
        return Some((
            "Mật khẩu này nằm trong danh sách mật khẩu phổ biến nhất, dễ bị đoán; hãy chọn mật khẩu khác",
            "This password is on the list of the most common passwords and easy to guess; choose another",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        let reason = |p: &str| weakness(p, "ketoan.a").map(|(_, en)| en);
        assert_eq!(
            reason("short"),
            Some("The password must be at least 10 characters long")
        );
        assert_eq!(
            reason("          "),
            Some("The password must not be only spaces")
        );
        assert_eq!(
            reason("aaaaaaaaaaaa"),
            Some("The password must not be one character repeated")
        );
        assert_eq!(
            reason("ketoan.a"),
            Some("The password must be at least 10 characters long")
        );
        assert_eq!(
            reason("KETOAN.A12"),
            Some("The password must not be the user name")
        );
        assert_eq!(
            weakness("nguyenvanan", "nguyenvanan").map(|(_, en)| en),
            Some("The password must not be the user name")
        );
        for common in ["1234567890", "qwertyuiop", "Basketball", "1qaz2wsx3edc"] {
            assert_eq!(
                reason(common),
                Some(
                    "This password is on the list of the most common passwords and easy to guess; choose another"
                ),
                "{common}"
            );
        }
        assert_eq!(reason("mùa thu Hà Nội 2026"), None);
        assert_eq!(reason("ketoan.a trường tiểu học"), None);
    }

    #[test]
    fn the_bundled_list_holds_the_common_passwords_of_ten_characters_or_more() {
        assert!(common_count() > 1500, "{}", common_count());
        assert!(COMMON.iter().all(|p| p.chars().count() >= 10));
    }
}
