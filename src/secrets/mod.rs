//! The secrets the console keeps and makes: the master key and what is derived from it, the
//! box that seals secrets at rest, password hashes and random tokens.

pub mod key;
pub mod password;
pub mod secret_box;
pub mod token;
