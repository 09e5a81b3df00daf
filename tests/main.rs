//! Integration tests against a local AWS emulator (moto server on 127.0.0.1).
//!
//! One moto server serves this whole test binary; tests are isolated by unique stack
//! names. `make test` installs moto into `.venv`; without it these tests fail loudly.

mod moto;
