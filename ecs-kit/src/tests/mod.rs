//! Tests that cross the layers: what a declaration can get wrong, refused before the
//! first AWS call (`bad_input`), and the security defaults of what it expands to
//! (`security`).

mod bad_input;
mod deployments;
mod https;
mod security;
