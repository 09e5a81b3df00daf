//! Tests that cross the layers: what a declaration can get wrong, refused before the
//! first AWS call (`bad_input`), the security defaults of what it expands to
//! (`security`), and call budgets and `--stats` (`performance`).

mod bad_input;
mod deployments;
mod https;
mod ops;
mod performance;
mod security;
mod tag_index;
