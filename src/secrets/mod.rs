//! The secrets the console keeps and makes: the box that seals secrets at rest, password
//! hashes and random tokens. The master key they derive from is found beside the database
//! (`secret_key`), a floor above.

pub mod password;
pub mod secret_box;
pub mod token;
