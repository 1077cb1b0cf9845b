//! Password hashing with argon2id.

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::SaltString,
};
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

/// Checks a new password's strength; `None` when acceptable.
pub fn weakness(password: &str) -> Option<(&'static str, &'static str)> {
    if password.chars().count() < 10 {
        return Some((
            "Mật khẩu phải có ít nhất 10 ký tự",
            "The password must be at least 10 characters long",
        ));
    }
    if password.chars().count() > 128 {
        return Some((
            "Mật khẩu dài tối đa 128 ký tự",
            "The password must be at most 128 characters long",
        ));
    }
    None
}
